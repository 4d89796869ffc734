import { randomBytes } from 'node:crypto';
import type { Clock } from '../../ports/clock.port';
import type { SecretCipher } from '../../ports/secret-cipher.port';
import type { StateStore } from '../../ports/state-store.port';
import { parseDocument } from '../documents';
import { pagesOf } from '../queries';
import { inputError } from '../errors';
import { parseWithSchema } from '../schema';
import { z } from '../zod';
import type { AddressPolicy } from './webhook-url';
import { checkWebhookUrl, webhookUrlSchema } from './webhook-url';

/** Who besides an export's creator is told about its notices: up to this many addresses per account. */
export const MAX_CONTACTS = 10;
/** RFC 5321's limit of a forward path. */
const MAX_EMAIL_LENGTH = 254;

/** The settings a PUT replaces: every field is the whole new value (an absent or null webhook removes it). */
export const notificationSettingsInputSchema = z.strictObject({
  emails: z
    .array(z.email('must be an e-mail address').max(MAX_EMAIL_LENGTH))
    .max(MAX_CONTACTS, `must hold at most ${MAX_CONTACTS} addresses`),
  webhook: z
    .strictObject({
      url: webhookUrlSchema,
      /** A new signing secret even though the URL stays (e.g. the answer with the last one was lost). */
      rotateSecret: z.boolean().optional(),
    })
    .nullable()
    .optional(),
});
export type NotificationSettingsInput = z.infer<typeof notificationSettingsInputSchema>;

/** As stored: the webhook's signing secret only as its ciphertext, bound to the account. */
const settingsDocSchema = z.object({
  accountId: z.string(),
  emails: z.array(z.string()),
  webhook: z
    .object({ url: z.string(), secretCiphertext: z.string(), secretCreatedAt: z.string() })
    .optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
type SettingsDoc = z.infer<typeof settingsDocSchema>;

/** What may leave the service: never the secret (only the answer to the PUT that made it carries it, once). */
export interface PublicNotificationSettings {
  accountId: string;
  emails: string[];
  webhook: { url: string; secretCreatedAt: string } | null;
  updatedAt?: string;
}

export interface NotificationSettingsDeps {
  state: StateStore;
  cipher: SecretCipher;
  clock: Clock;
  /** Resolves a webhook host (the WebhookSender's resolve), for the address check at registration. */
  resolve: (hostname: string) => Promise<string[]>;
  policy: AddressPolicy;
}

export const notificationSettingsPath = (accountId: string): string => `notificationSettings/${accountId}`;
/** The secret's ciphertext is useless on any other account's settings. */
export const webhookSecretBinding = (accountId: string): string =>
  `notificationSettings/${accountId}/webhook`;

/** A Standard Webhooks signing secret: `whsec_` and base64 of 32 random bytes. */
const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/** Addresses compared as mail systems treat them in practice: case-insensitively. */
export const sameAddress = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** The addresses once each (the first spelling kept), in the order given. */
export function uniqueAddresses(emails: readonly string[]): string[] {
  const seen = new Set<string>();
  return emails.filter((email) => {
    const key = email.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

async function readSettings(state: StateStore, accountId: string): Promise<SettingsDoc | undefined> {
  const path = notificationSettingsPath(accountId);
  const data = await state.get(path);
  return data === undefined ? undefined : parseDocument(settingsDocSchema, path, data);
}

export function publicSettings(accountId: string, doc: SettingsDoc | undefined): PublicNotificationSettings {
  return {
    accountId,
    emails: doc?.emails ?? [],
    webhook: doc?.webhook ? { url: doc.webhook.url, secretCreatedAt: doc.webhook.secretCreatedAt } : null,
    ...(doc ? { updatedAt: doc.updatedAt } : {}),
  };
}

export async function getNotificationSettings(
  state: StateStore,
  accountId: string,
): Promise<PublicNotificationSettings> {
  return publicSettings(accountId, await readSettings(state, accountId));
}

/** A check of the settings as they are when the write happens (the API's If-Match): it throws to refuse it. */
export type SettingsPrecondition = (current: PublicNotificationSettings) => void;

export type WrittenNotificationSettings = PublicNotificationSettings & {
  /** The webhook's new signing secret: only when this write made one. */
  webhookSecret?: string;
};

/**
 * Replaces the account's notification settings: every violation at once (values never echoed), the webhook's host
 * checked after DNS, and a new signing secret, stored encrypted, when the webhook is new, its URL changed or a
 * rotation was asked for. The answer carries that secret; nothing ever shows it again.
 */
export async function putNotificationSettings(
  deps: NotificationSettingsDeps,
  accountId: string,
  input: unknown,
  precondition: SettingsPrecondition = () => undefined,
): Promise<WrittenNotificationSettings> {
  const parsed = parseWithSchema(notificationSettingsInputSchema, input);
  if (!parsed.ok)
    throw inputError('invalidNotificationSettings', parsed.violations.join('; '), {
      violations: parsed.violations,
    });
  const { emails, webhook } = parsed.value;
  if (webhook) await checkWebhookUrl(webhook.url, deps.resolve, deps.policy);
  const before = await readSettings(deps.state, accountId);
  precondition(publicSettings(accountId, before));
  const now = deps.clock.now().toISOString();
  const keep = webhook && before?.webhook?.url === webhook.url && webhook.rotateSecret !== true;
  const secret = webhook && !keep ? newSecret() : undefined;
  const sealed =
    secret === undefined
      ? undefined
      : {
          url: webhook?.url ?? '',
          secretCiphertext: await deps.cipher.encrypt(secret, webhookSecretBinding(accountId)),
          secretCreatedAt: now,
        };
  const path = notificationSettingsPath(accountId);
  const doc = await deps.state.transaction(async (tx) => {
    const data = await tx.get(path);
    const current = data === undefined ? undefined : parseDocument(settingsDocSchema, path, data);
    // Checked again here: a write between the read and this transaction is caught.
    precondition(publicSettings(accountId, current));
    const kept = keep && current?.webhook?.url === webhook.url ? current.webhook : undefined;
    if (keep && !kept)
      throw inputError('preconditionFailed', 'the webhook changed while these settings were written; retry');
    const next: SettingsDoc = {
      accountId,
      emails: uniqueAddresses(emails),
      ...((sealed ?? kept) ? { webhook: sealed ?? kept } : {}),
      createdAt: current?.createdAt ?? now,
      updatedAt: now,
    };
    tx.set(path, next);
    return next;
  });
  return { ...publicSettings(accountId, doc), ...(secret === undefined ? {} : { webhookSecret: secret }) };
}

/** Who is told besides the creator, and the webhook with its sealed secret: what a notice's delivery reads. */
export interface NoticeAudience {
  emails: string[];
  webhook?: { url: string; secretCiphertext: string };
}

export async function noticeAudience(state: StateStore, accountId: string): Promise<NoticeAudience> {
  const doc = await readSettings(state, accountId);
  if (!doc) return { emails: [] };
  const { webhook } = doc;
  return {
    emails: doc.emails,
    ...(webhook ? { webhook: { url: webhook.url, secretCiphertext: webhook.secretCiphertext } } : {}),
  };
}

/** The webhook's signing secret, in memory only for the delivery. */
export const openWebhookSecret = (
  cipher: SecretCipher,
  accountId: string,
  ciphertext: string,
): Promise<string> => cipher.decrypt(ciphertext, webhookSecretBinding(accountId));

export interface SecretRewrapOutcome {
  /** Accounts' settings looked at. */
  examined: number;
  /** Webhook secrets re-encrypted under the current key-encryption key. */
  rewrapped: number;
  /** Webhook secrets already under it. */
  current: number;
}

const REWRAP_PAGE = 200;

/**
 * Re-encrypts every webhook secret not sealed under the current key-encryption key, as rewrapKeys does for
 * customers' keys (the operators' `POST /v1/admin/keys/rewrap` runs both), so that the previous key can be retired.
 * Each is re-read and replaced in a transaction that checks it did not change meanwhile. Idempotent.
 */
export async function rewrapWebhookSecrets(deps: {
  state: StateStore;
  cipher: SecretCipher;
}): Promise<SecretRewrapOutcome> {
  const outcome: SecretRewrapOutcome = { examined: 0, rewrapped: 0, current: 0 };
  for await (const docs of pagesOf(deps.state, 'notificationSettings', [], REWRAP_PAGE)) {
    for (const { id } of docs) {
      outcome.examined += 1;
      const path = `notificationSettings/${id}`;
      const result = await deps.state.transaction(async (tx) => {
        const data = await tx.get(path);
        const doc = data === undefined ? undefined : parseDocument(settingsDocSchema, path, data);
        if (!doc?.webhook) return undefined;
        if (deps.cipher.isCurrent(doc.webhook.secretCiphertext)) return 'current' as const;
        const binding = webhookSecretBinding(doc.accountId);
        const secretCiphertext = await deps.cipher.encrypt(
          await deps.cipher.decrypt(doc.webhook.secretCiphertext, binding),
          binding,
        );
        tx.update(path, { webhook: { ...doc.webhook, secretCiphertext } });
        return 'rewrapped' as const;
      });
      if (result) outcome[result] += 1;
    }
  }
  return outcome;
}
