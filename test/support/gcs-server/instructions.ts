// Fault instructions, spelled as googleapis/storage-testbench spells them (README, "Forced Failures Supported"),
// plus `return-403-{reason}`-style codes with a reason for the error body.

export type Instruction =
  /** return-503, return-401, return-403-retentionPolicyNotMet: answer that error (the request is not applied). */
  | { kind: 'status'; code: number; reason?: string }
  /** return-reset-connection: reset the connection without a response. */
  | { kind: 'reset' }
  /**
   * return-503-after-256K: an upload persists bytes up to that offset and then gets the error; a download sends
   * that many bytes and then the connection breaks.
   */
  | { kind: 'statusAfter'; code: number; afterBytes: number }
  /** return-broken-stream, return-broken-stream-after-64K: a download breaks after that many bytes. */
  | { kind: 'brokenStream'; afterBytes: number };

const STATUS = /^return-(\d{3})(?:-([A-Za-z]+))?$/;
const STATUS_AFTER = /^return-(\d{3})-after-(\d+)K$/;
const BROKEN_AFTER = /^return-broken-stream-after-(\d+)K$/;

/** How far a bare `return-broken-stream` gets (testbench: "a few downloaded bytes"). */
const BROKEN_STREAM_BYTES = 4;

export function parseInstruction(text: string): Instruction | undefined {
  if (text === 'return-reset-connection') return { kind: 'reset' };
  if (text === 'return-broken-stream') return { kind: 'brokenStream', afterBytes: BROKEN_STREAM_BYTES };
  const after = STATUS_AFTER.exec(text);
  if (after) return { kind: 'statusAfter', code: Number(after[1]), afterBytes: Number(after[2]) * 1024 };
  const broken = BROKEN_AFTER.exec(text);
  if (broken) return { kind: 'brokenStream', afterBytes: Number(broken[1]) * 1024 };
  const status = STATUS.exec(text);
  if (status) {
    const code = Number(status[1]);
    if (code < 400 || code > 599) return undefined;
    return status[2] ? { kind: 'status', code, reason: status[2] } : { kind: 'status', code };
  }
  return undefined;
}

/** Operations the Retry Test API accepts, named as the JSON API's methods. */
export const OPERATIONS = [
  'storage.buckets.get',
  'storage.buckets.insert',
  'storage.buckets.testIamPermissions',
  'storage.objects.insert',
  'storage.objects.get',
  'storage.objects.list',
  'storage.objects.delete',
  'storage.objects.patch',
] as const;
export type Operation = (typeof OPERATIONS)[number];

export function isOperation(name: string): name is Operation {
  return (OPERATIONS as readonly string[]).includes(name);
}
