import { inputError } from '../domain/errors';
import type { Page } from '../domain/pages';
import type { SecretCipher } from '../ports/secret-cipher.port';

/**
 * Page tokens are sealed (AES-256-GCM under the key-encryption key, the list they page through as associated data),
 * so a token the API did not issue, or issued for another list or account, opens on nothing and is refused. Inside
 * the seal is the position the domain's list returned; callers only ever see the sealed form.
 */
const bindingOf = (list: string): string => `gcs-export page token\n${list}`;

const notIssued = () => inputError('invalidQuery', 'pageToken: is not a token this API returned');

/** The token a caller gets for `position` in `list` (e.g. `acct-1/destinations`). */
export async function sealPageToken(cipher: SecretCipher, list: string, position: string): Promise<string> {
  return Buffer.from(await cipher.encrypt(position, bindingOf(list)), 'utf8').toString('base64url');
}

/** The position a token sealed for `list` stands for; anything else is 400 invalidQuery. */
export async function openPageToken(cipher: SecretCipher, list: string, token: string): Promise<string> {
  const sealed = Buffer.from(token, 'base64url').toString('utf8');
  if (Buffer.from(sealed, 'utf8').toString('base64url') !== token) throw notIssued();
  try {
    return await cipher.decrypt(sealed, bindingOf(list));
  } catch {
    throw notIssued();
  }
}

/** A page with its next-page token sealed for `list`. */
export async function sealPage<P extends Page<unknown>>(
  cipher: SecretCipher,
  list: string,
  page: P,
): Promise<P> {
  if (page.nextPageToken === undefined) return page;
  return { ...page, nextPageToken: await sealPageToken(cipher, list, page.nextPageToken) };
}
