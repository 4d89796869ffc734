import type { LogFields, Logger } from '../ports/logger.port';

type EventSeverity = 'info' | 'warn' | 'error';

/**
 * The named state changes operators count: every log-based metric and alert filters on `jsonPayload.event`, so the
 * set of values is closed and defined here once. A state change logs its event exactly once, with stable fields
 * (accountId, exportId, runId, chunk, counts, bytes, code) and never a key, token or e-mail body.
 */
export const LOG_EVENTS = {
  runPlanned: { severity: 'info', description: 'a run was planned and its chunk tasks published' },
  chunkWritten: { severity: 'info', description: 'a chunk was written: files, records and bytes' },
  chunkBlocked: {
    severity: 'warn',
    description: 'a chunk stopped on a destination error the customer must fix',
  },
  runSucceeded: { severity: 'info', description: 'a run finished: manifest and _SUCCESS written' },
  runFailed: { severity: 'error', description: 'a run failed for good (integrity error, exhausted retries)' },
  runStuck: { severity: 'error', description: 'a running run made no progress past the stuck deadline' },
  runSwept: {
    severity: 'warn',
    description: 'the hourly sweep finalised or republished a run a lost message left',
  },
  runMoved: {
    severity: 'info',
    description: 'a blocked run was planned again for the destination its export uses now',
  },
  runsCaughtUp: {
    severity: 'info',
    description: 'a restarted export planned the requests held while it was stopped, in request order',
  },
  documentUnreadable: {
    severity: 'error',
    description:
      'a stored document failed its schema and was skipped (its path is logged, never its content)',
  },
  chunkDeadLettered: { severity: 'error', description: 'a chunk task exhausted its deliveries' },
  requestDeadLettered: { severity: 'error', description: 'an export request exhausted its deliveries' },
  messageRejected: { severity: 'warn', description: 'a message was rejected as invalid, once per content' },
  exportFailing: {
    severity: 'warn',
    description: 'an export was found failing by a worker or the hourly check',
  },
  exportRecovered: { severity: 'info', description: 'a failing export works again and was resumed' },
  exportStopped: { severity: 'error', description: 'an export was stopped after its third notice' },
  noticeSent: { severity: 'info', description: 'a failure notice e-mail was sent (notice 1, 2 or 3)' },
  keysRewrapped: {
    severity: 'info',
    description: 'stored service-account keys were re-encrypted under the current key-encryption key',
  },
  apiCallerRefused: {
    severity: 'warn',
    description: 'an API request was refused: no valid caller token, or a caller that is not configured',
  },
  mailFailed: { severity: 'error', description: 'a notice e-mail could not be sent; the next check retries' },
  noticeUndelivered: {
    severity: 'warn',
    description:
      "a notice reached the export's creator, but a contact's e-mail or the account's webhook failed (channel); not retried by the next check",
  },
} as const satisfies Record<string, { severity: EventSeverity; description: string }>;

export type LogEvent = keyof typeof LOG_EVENTS;
export const LOG_EVENT_NAMES = Object.keys(LOG_EVENTS) as LogEvent[];

/** Logs one named event at its catalogued severity; the event name is both the message and the `event` field. */
export function logEvent(logger: Logger, event: LogEvent, fields: LogFields = {}): void {
  logger[LOG_EVENTS[event].severity](event, { ...fields, event });
}
