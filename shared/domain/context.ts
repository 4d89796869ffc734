import type { BlockProcessor } from '../ports/block-processor.port';
import type { BucketStore, DestinationStores } from '../ports/bucket-store.port';
import type { Bus } from '../ports/bus.port';
import type { Clock } from '../ports/clock.port';
import type { Logger } from '../ports/logger.port';
import type { Quarantine } from '../ports/quarantine.port';
import type { StateStore } from '../ports/state-store.port';

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
  topics: { requests: string; chunks: string; deadLetter: string };
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
  topics: { requests: 'export-requests', chunks: 'export-chunks', deadLetter: 'export-dead-letter' },
};
