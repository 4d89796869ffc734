import ipaddr from 'ipaddr.js';
import { inputError } from '../errors';
import { z } from '../zod';

/** A webhook URL's length limit: enough for any receiver's path and query, small enough to store and log safely. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

/**
 * A webhook URL as the customer may register it: https, no user name or password in it (the signature is the
 * credential), no fragment, bounded. Where its host points is checked apart (checkWebhookUrl), after DNS.
 */
export const webhookUrlSchema = z
  .string()
  .max(MAX_WEBHOOK_URL_LENGTH, `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`)
  .refine((value) => URL.canParse(value), 'must be an absolute URL')
  .refine((value) => !URL.canParse(value) || new URL(value).protocol === 'https:', 'must be an https URL')
  .refine((value) => {
    if (!URL.canParse(value)) return true;
    const url = new URL(value);
    return url.username === '' && url.password === '';
  }, 'must not carry a user name or password')
  .refine((value) => !URL.canParse(value) || new URL(value).hash === '', 'must not have a fragment (#…)');

/** Test environments only (WEBHOOK_ALLOW_LOOPBACK): a receiver on 127.0.0.1 or ::1 may be registered and called. */
export interface AddressPolicy {
  allowLoopback: boolean;
}

export const PUBLIC_ONLY: AddressPolicy = { allowLoopback: false };

/**
 * Why an address may not receive webhooks, or undefined when it may: only public unicast addresses may (ipaddr.js's
 * range table: loopback, link-local and the metadata server at 169.254.169.254, private, shared 100.64/10,
 * unspecified, broadcast, multicast, reserved, and the IPv6 unique-local, link-local, NAT64, 6to4 and Teredo ranges
 * are refused). An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is judged as the IPv4 address it is.
 */
export function addressRefusal(address: string, policy: AddressPolicy): string | undefined {
  if (!ipaddr.isValid(address)) return 'is not an IP address';
  const parsed = ipaddr.process(address);
  const range = parsed.range();
  if (range === 'unicast') return undefined;
  if (range === 'loopback' && policy.allowLoopback) return undefined;
  return `is a ${range} address`;
}

/** The host of a URL as DNS or an address literal names it (IPv6 literals without their brackets). */
export const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Refuses (422 webhookUrlRefused) a webhook URL whose host is not public: an address literal is judged as it is, a
 * name by every address it resolves to now (all must be public, so that no answer of a round-robin name reaches a
 * private one). The sender checks again at each delivery, on the address it connects to.
 */
export async function checkWebhookUrl(
  url: string,
  resolve: (hostname: string) => Promise<string[]>,
  policy: AddressPolicy,
): Promise<void> {
  const host = hostOf(new URL(url));
  let addresses: string[];
  if (ipaddr.isValid(host)) addresses = [host];
  else {
    addresses = await resolve(host).catch(() => []);
    if (addresses.length === 0)
      throw inputError('webhookUrlRefused', "the webhook URL's host does not resolve to any address");
  }
  const refused = addresses.map((a) => addressRefusal(a, policy)).find((r) => r !== undefined);
  if (refused !== undefined)
    throw inputError(
      'webhookUrlRefused',
      `the webhook URL's host ${refused}: webhooks are delivered to public addresses only`,
    );
}
