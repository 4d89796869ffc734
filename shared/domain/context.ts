import type { BlockProcessor } from '../ports/block-processor.port';
import type { BucketStore, DestinationStores } from '../ports/bucket-store.port';
import type { Bus } from '../ports/bus.port';
import type { Clock } from '../ports/clock.port';
import type { Logger } from '../ports/logger.port';
import type { Quarantine } from '../ports/quarantine.port';
import type { StateStore } from '../ports/state-store.port';

/** The hourly check: escalation policy, run sweep and batching (docs/ESCALATION.md). */
export interface HealthSettings {
  /** Notice 2 ("stops in 24 h unless fixed") once this long has passed since the failure was first seen. */
  notice2AfterHours: number;
  /** Notice 3 and the stop once this long has passed since the failure was first seen ... */
  stopAfterHours: number;
  /** ... and notice 2 went out at least this long before, so a scheduler outage never skips a warning. */
  stopAfterNotice2Hours: number;
  /** A failure this soon after a resume continues the same episode: first-failure time and notices are kept. */
  recoveryHoldHours: number;
  /**
   * How long a claimed notice belongs to the check that claimed it; a claim older than this is sent again. Longer than
   * the hourly check's interval: a send whose answer was lost is not sent again by the next check.
   */
  noticeClaimLeaseMinutes: number;
  /** Where the customer fixes the integration; {accountId}, {exportId} and {destinationId} are filled in. */
  dashboardUrl: string;
  /** A running run whose finished-chunk count has not moved for this long is swept (finalised or republished). */
  runSweepAfterMinutes: number;
  /** ... and past this, reported once to operators as runStuck. */
  runStuckAfterHours: number;
  /** Failing exports read per query page, and checked at once. */
  checkPageSize: number;
  checkConcurrency: number;
  /** The check stops taking new exports after this long, well inside the function's timeout. */
  checkBudgetSeconds: number;
  /** Test and demo environments only: the check message may carry the time to check at. */
  acceptSimulatedTime: boolean;
}

export interface ExportSettings {
  /** Target uncompressed bytes of source per chunk. */
  chunkTargetBytes: number;
  /** Upper bound of one output object. */
  maxPartBytes: number;
  maxOpenParts: number;
  /** Longer source lines are quarantined instead of buffered. */
  maxLineBytes: number;
  /** How long the elected finaliser owns a run before another worker may take over (finalising is idempotent). */
  finaliserLeaseSeconds: number;
  topics: { requests: string; chunks: string; deadLetter: string; failureCheck: string };
  health: HealthSettings;
  /** Where each account's sources may lie (SOURCE_PREFIX_TEMPLATE); undefined: anywhere the platform can read. */
  sourceScope?: readonly string[] | undefined;
}

/** Everything the export services use, built once per instance by a composition root. */
export interface ExportContext {
  state: StateStore;
  source: BucketStore;
  destinations: DestinationStores;
  quarantine: Quarantine;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  settings: ExportSettings;
  /** Identifies this worker in leases and claims. */
  instanceId: string;
  /** Where blocks of source lines are turned into output lines; on the calling thread when absent. */
  blocks?: BlockProcessor;
}

export const DEFAULT_SETTINGS: ExportSettings = {
  chunkTargetBytes: 100 * 1024 * 1024,
  maxPartBytes: 100 * 1024 * 1024,
  maxOpenParts: 128,
  maxLineBytes: 8 * 1024 * 1024,
  finaliserLeaseSeconds: 120,
  topics: {
    requests: 'export-requests',
    chunks: 'export-chunks',
    deadLetter: 'export-dead-letter',
    failureCheck: 'failure-check',
  },
  health: {
    notice2AfterHours: 48,
    stopAfterHours: 72,
    stopAfterNotice2Hours: 24,
    recoveryHoldHours: 24,
    noticeClaimLeaseMinutes: 90,
    dashboardUrl: 'https://dashboard.gcs-export.invalid/accounts/{accountId}/exports/{exportId}/destination',
    runSweepAfterMinutes: 60,
    runStuckAfterHours: 6,
    checkPageSize: 100,
    checkConcurrency: 8,
    checkBudgetSeconds: 420,
    acceptSimulatedTime: false,
  },
};
