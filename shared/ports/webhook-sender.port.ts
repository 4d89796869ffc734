/** One signed webhook request, ready to go: the sender adds nothing but the transport. */
export interface WebhookRequest {
  /** An https URL whose host was checked at registration; the sender checks the addresses again as it connects. */
  url: string;
  /** The Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature) and the content type. */
  headers: Record<string, string>;
  /** The JSON body, exactly as signed. */
  body: string;
  /** Give up waiting for the receiver's answer after this long. */
  timeoutMs: number;
}

export interface WebhookAnswer {
  /** The receiver's HTTP status. */
  status: number;
}

/**
 * Delivers customers' webhook requests. Every address it resolves a host to is checked by the address policy it was
 * built with (shared/domain/notify/webhook-url.ts), and it connects only to an address it checked, so that a host
 * whose DNS changes between the check and the connection (DNS rebinding) reaches nothing private.
 */
export interface WebhookSender {
  /** Every address the host resolves to now (A and AAAA), as the sender would connect. */
  resolve(hostname: string): Promise<string[]>;
  /**
   * POSTs the request and returns the receiver's answer, whatever its status. Throws WebhookAddressRefused when the
   * host resolves to an address the policy refuses, and any other error when no answer came (refused, reset, timeout).
   */
  post(request: WebhookRequest): Promise<WebhookAnswer>;
}

/** The host resolved to an address the policy refuses (loopback, link-local, private, …): nothing was sent. */
export class WebhookAddressRefused extends Error {
  override readonly name = 'WebhookAddressRefused';
}
