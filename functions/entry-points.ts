/**
 * The Cloud Functions functions/index.ts registers: how the Functions Framework serves each, and whether it
 * encrypts or decrypts customers' service-account keys. Only those are given the key-encryption keys
 * (terraform/main.tf mounts them; a drift test compares), and one that tried without them would fail loudly.
 * No side effects, so that tests and tools can read it without registering anything.
 */
export const ENTRY_POINTS = {
  planExport: { signature: 'cloudevent', usesCustomerKeys: true },
  writeChunk: { signature: 'cloudevent', usesCustomerKeys: true },
  deadLetter: { signature: 'cloudevent', usesCustomerKeys: false },
  checkFailures: { signature: 'cloudevent', usesCustomerKeys: true },
  api: { signature: 'http', usesCustomerKeys: true },
} as const satisfies Record<string, { signature: 'cloudevent' | 'http'; usesCustomerKeys: boolean }>;

export type EntryPoint = keyof typeof ENTRY_POINTS;
