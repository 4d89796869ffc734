import { z } from './zod';
import { exportRequestSchema } from './export-request';
import { accountScopedId } from './ids';
import { columnSchema } from './output/column-types';
import { columnSetSchema } from './output/run-schema';

/** Schemas of every Firestore document; the domain parses what it reads, never trusts it. */

export const sliceSchema = z.object({
  bucket: z.string(),
  name: z.string(),
  /** Half-open byte range [start, end) of the stored object. */
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
  gzip: z.boolean(),
});
export type Slice = z.infer<typeof sliceSchema>;

export const fileEntrySchema = z.object({
  name: z.string(),
  records: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  crc32c: z.string(),
  chunk: z.number().int().nonnegative(),
  part: z.number().int().nonnegative(),
  dt: z.string(),
  event: z.string().optional(),
});
export type FileEntry = z.infer<typeof fileEntrySchema>;

/**
 * A page of a chunk's file list, in a collection of its own (`paths.filePage`): a chunk can write thousands of
 * files, and a document that grew with them would pass Firestore's 1 MiB limit (pages are cut well below it).
 */
export const filePageSchema = z.object({
  chunk: z.number().int().nonnegative(),
  page: z.number().int().nonnegative(),
  files: z.array(fileEntrySchema),
});
export type FilePage = z.infer<typeof filePageSchema>;

/** What a done chunk wrote, counted, so that totals need no file list. */
export const chunkOutputSchema = z.object({
  files: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  /** Pages of the file list (`paths.filePage(plan, chunk, 0 … pages - 1)`). */
  pages: z.number().int().nonnegative(),
});
export type ChunkOutput = z.infer<typeof chunkOutputSchema>;

export const chunkCountsSchema = z.object({
  sourceLines: z.number().int().nonnegative(),
  records: z.number().int().nonnegative(),
  quarantined: z.number().int().nonnegative(),
  filteredOut: z.number().int().nonnegative(),
  sourceBytes: z.number().int().nonnegative(),
  /** The source's bytes after decompression (what the records take); absent in chunks of earlier versions. */
  uncompressedBytes: z.number().int().nonnegative().optional(),
});
export type ChunkCounts = z.infer<typeof chunkCountsSchema>;

export const failureSchema = z.object({
  kind: z.enum(['destination', 'transient', 'input', 'integrity']),
  code: z.string(),
  message: z.string(),
  status: z.number().int().optional(),
  at: z.string(),
});
export type FailureRecord = z.infer<typeof failureSchema>;

export const CHUNK_STATUSES = ['pending', 'running', 'done', 'blocked', 'failed'] as const;
export type ChunkStatus = (typeof CHUNK_STATUSES)[number];

export const chunkDocSchema = z.object({
  index: z.number().int().nonnegative(),
  slices: z.array(sliceSchema),
  bytes: z.number().int().nonnegative(),
  status: z.enum(CHUNK_STATUSES),
  attempts: z.number().int().nonnegative(),
  /** Written by earlier versions only: the file list now lives in file pages. */
  files: z.array(fileEntrySchema).optional(),
  output: chunkOutputSchema.optional(),
  counts: chunkCountsSchema.optional(),
  quarantine: z.string().optional(),
  failure: failureSchema.optional(),
  updatedAt: z.string(),
});
export type ChunkDoc = z.infer<typeof chunkDocSchema>;

/**
 * `held`: the request arrived while its export was stopped; it is kept and planned when the export restarts
 * (lifecycle/transitions.ts). `skipped`: what earlier versions recorded instead; a restart delivers those too.
 */
export const RUN_STATUSES = [
  'planning',
  'running',
  'blocked',
  'succeeded',
  'failed',
  'held',
  'skipped',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const runTotalsSchema = z.object({
  files: z.number().int().nonnegative(),
  records: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  sourceLines: z.number().int().nonnegative(),
  sourceBytes: z.number().int().nonnegative(),
  uncompressedBytes: z.number().int().nonnegative().optional(),
  quarantined: z.number().int().nonnegative(),
  filteredOut: z.number().int().nonnegative(),
});
export type RunTotals = z.infer<typeof runTotalsSchema>;

export const runDocSchema = z.object({
  runId: z.string(),
  requestId: z.string(),
  requestHash: z.string(),
  accountId: z.string(),
  exportId: z.string(),
  destinationId: z.string(),
  request: exportRequestSchema,
  status: z.enum(RUN_STATUSES),
  /**
   * Content hash of the committed plan. Chunk documents live under their plan, so planners racing on a redelivered
   * request never overwrite each other's chunks: the first plan committed is the run's plan.
   */
  planId: z.string().optional(),
  chunkCount: z.number().int().nonnegative().optional(),
  sourceObjects: z.number().int().nonnegative().optional(),
  sourceBytes: z.number().int().nonnegative().optional(),
  createdAt: z.string(),
  plannedAt: z.string().optional(),
  completedAt: z.string().optional(),
  manifest: z.object({ bucket: z.string(), name: z.string() }).optional(),
  totals: runTotalsSchema.optional(),
  failure: failureSchema.optional(),
  /**
   * What the hourly sweep last saw of a planning or running run: its status, its finished-chunk count and since when
   * neither has moved. Written by the sweep only, so no worker ever touches the run document to report progress.
   */
  sweep: z
    .object({
      status: z.enum(RUN_STATUSES),
      doneChunks: z.number().int().nonnegative(),
      since: z.string(),
      stuckReportedAt: z.string().optional(),
    })
    .optional(),
  /** CSV and Parquet: the columns every file of the run shares, decided once every chunk has been scanned. */
  schema: columnSetSchema.optional(),
  /** When the chunk tasks that write with the schema were published (a crash before that republishes them). */
  schemaPublishedAt: z.string().optional(),
  updatedAt: z.string(),
});
export type RunDoc = z.infer<typeof runDocSchema>;

export const finaliserClaimSchema = z.object({
  holder: z.string(),
  /** Finalising is idempotent, so a short lease is safe: a slow holder and a taker-over write identical bytes. */
  leaseUntil: z.string(),
  /** Fixed by the first claim so that a takeover writes a byte-identical manifest. */
  completedAt: z.string(),
  done: z.boolean(),
});
export type FinaliserClaim = z.infer<typeof finaliserClaimSchema>;

export const NOTICE_NUMBERS = [1, 2, 3] as const;
export type NoticeNumber = (typeof NOTICE_NUMBERS)[number];
const noticeNumberSchema = z.union([z.literal(1), z.literal(2), z.literal(3)]);

export const noticeSentSchema = z.object({
  notice: noticeNumberSchema,
  at: z.string(),
  /** The mail provider's id (SendGrid's X-Message-Id); absent on notices recorded before it was kept. */
  messageId: z.string().optional(),
  /** The error code the notice reported. */
  code: z.string().optional(),
});
export type NoticeSent = z.infer<typeof noticeSentSchema>;

export const noticeClaimSchema = z.object({
  notice: noticeNumberSchema,
  holder: z.string(),
  claimedAt: z.string(),
  leaseUntil: z.string(),
});
export type NoticeClaim = z.infer<typeof noticeClaimSchema>;

/**
 * An earlier episode's recovery notice, still due when a later episode's recovery replaced it (`instead`). Its claim
 * is kept with it, so that a send in flight is neither repeated before its lease ends nor lost.
 */
export const supersededRecoverySchema = z.object({
  episodeStart: z.string(),
  afterNotice: noticeNumberSchema,
  followed: z.array(noticeNumberSchema).default([]),
  code: z.string().optional(),
  claim: z.object({ holder: z.string(), leaseUntil: z.string() }).nullish(),
});
export type SupersededRecovery = z.infer<typeof supersededRecoverySchema>;

/**
 * The recovery notice (docs/ESCALATION.md): due when an export that had been sent notice 1, 2 or 3 works again,
 * written in the same transaction as the recovery (resume-export.ts), sent under a claim like the others
 * (notice-claims.ts). One per episode and last notice: `afterNotice` is the notice it follows.
 */
export const recoveryNoticeSchema = z.object({
  /** The episode that recovered (its health.firstFailureAt). */
  episodeStart: z.string(),
  /** The last notice of the episode that went out (or may have: its send was claimed) before the recovery. */
  afterNotice: noticeNumberSchema,
  /** Notices of the episode a recovery notice already followed (a relapse in the recovery hold keeps the episode). */
  followed: z.array(noticeNumberSchema).default([]),
  /** The error that notice reported: what was fixed. */
  code: z.string().optional(),
  recoveredAt: z.string(),
  /** What the resume delivered: runs continued, their chunks published again, held requests caught up. */
  delivered: z.object({
    runs: z.number().int().nonnegative(),
    chunks: z.number().int().nonnegative(),
    caughtUp: z.number().int().nonnegative(),
  }),
  /** True until it is sent (the hourly check sends every due one it finds). */
  due: z.boolean(),
  /**
   * The notice whose send was in flight (or whose answer was lost) when the export recovered: the recovery waits
   * until that send is recorded or refused, or its lease ends, so that it never overtakes the notice it follows.
   */
  waitFor: z.object({ holder: z.string(), until: z.string() }).nullish(),
  /**
   * While `waitFor` holds: the earlier episode's recovery notice this one replaced while it was still due. It is due
   * again if the send waited for is refused and nothing else of this episode went out: the customer's last warning is
   * then the earlier episode's, and nothing was said in this one.
   */
  instead: supersededRecoverySchema.nullish(),
  claim: z.object({ holder: z.string(), leaseUntil: z.string() }).nullish(),
  sentAt: z.string().optional(),
  messageId: z.string().optional(),
});
export type RecoveryNotice = z.infer<typeof recoveryNoticeSchema>;

export const exportDocSchema = z.object({
  accountId: z.string(),
  exportId: z.string(),
  destinationId: z.string(),
  /** The name people know the export by (the latest request that carried one); notices fall back to the id. */
  displayName: z.string().optional(),
  createdBy: z.object({ email: z.string(), name: z.string() }),
  status: z.enum(['active', 'stopped']),
  /** Set with the stop (after notice 3), cleared by a resume. Null once cleared (Firestore updates cannot unset). */
  stoppedAt: z.string().nullish(),
  stopReason: failureSchema.nullish(),
  health: z.object({
    state: z.enum(['healthy', 'failing']),
    /** Start of the failure episode: the three-day clock. Kept through a resume that fails again in the hold. */
    firstFailureAt: z.string().optional(),
    lastFailureAt: z.string().optional(),
    lastError: failureSchema.optional(),
    /** The last resume of this episode: a failure before `relapseUntil` continues the episode. */
    recoveredAt: z.string().optional(),
    relapseUntil: z.string().optional(),
    /**
     * Destination errors recorded so far (every block counts): a resume marks the export recovered only if this did
     * not move while it worked, so that a run re-blocked during the resume keeps the export failing.
     */
    failures: z.number().int().nonnegative().optional(),
  }),
  /** Notices of the current episode that went out, with the provider's message id. */
  noticesSent: z.array(noticeSentSchema).default([]),
  /** The notice a check is sending right now, claimed before the send so that no notice goes out twice. */
  noticeClaim: noticeClaimSchema.nullish(),
  /**
   * Notices of the current episode that may have gone out though none was recorded: a claim whose lease ran out
   * without its send being recorded or released (its answer was lost, or its check died) was taken over by a later
   * check, and what the first send did is unknown. A recovery notice follows them as it follows those that went out.
   */
  noticesMaybeSent: z.array(noticeNumberSchema).default([]),
  recoveryNotice: recoveryNoticeSchema.nullish(),
  lastRunId: z.string().optional(),
  lastSuccessAt: z.string().optional(),
  /** The columns of the export's CSV and Parquet runs so far, in order, with their (only ever widened) types. */
  columns: z.array(columnSchema).optional(),
  updatedAt: z.string(),
});
export type ExportDoc = z.infer<typeof exportDocSchema>;

/** The notices of the current episode that went out (recorded) or may have (`noticesMaybeSent`): what a recovery follows. */
export const noticesOut = (doc: ExportDoc): NoticeNumber[] => [
  ...doc.noticesSent.map((n) => n.notice),
  ...doc.noticesMaybeSent,
];

export const rejectionDocSchema = z.object({
  topic: z.string(),
  receivedAt: z.string(),
  violations: z.array(z.string()),
  accountId: z.string().optional(),
  requestId: z.string().optional(),
  /** The rejected message, truncated: enough to find and fix the publisher. */
  excerpt: z.string(),
});
export type RejectionDoc = z.infer<typeof rejectionDocSchema>;

/**
 * An export's runs, newest first: the id starts with the time left until the largest Date, so id order (the only
 * order pages have) is newest-first. Written with the run, in the same transaction.
 */
export const exportRunEntrySchema = z.object({ runId: z.string(), createdAt: z.string() });
const MAX_EPOCH_MS = 8_640_000_000_000_000;
const exportRunKey = (createdAt: string, runId: string): string =>
  `${String(MAX_EPOCH_MS - Date.parse(createdAt)).padStart(16, '0')}~${runId}`;

/** A run and its committed plan: what locates a chunk document. */
export interface PlanRef {
  runId: string;
  planId: string;
}

const chunksPath = (run: PlanRef): string => `runs/${run.runId}/plans/${run.planId}/chunks`;
const filesPath = (run: PlanRef): string => `runs/${run.runId}/plans/${run.planId}/files`;

export const paths = {
  /** Keyed per account like exports: one account can neither see nor squat another account's destination ids. */
  destination: (accountId: string, destinationId: string) =>
    `destinations/${accountScopedId(accountId, destinationId)}`,
  export: (docId: string) => `exports/${docId}`,
  exportRuns: (docId: string) => `exports/${docId}/runs`,
  exportRun: (docId: string, createdAt: string, runId: string) =>
    `exports/${docId}/runs/${exportRunKey(createdAt, runId)}`,
  run: (runId: string) => `runs/${runId}`,
  chunks: chunksPath,
  chunk: (run: PlanRef, index: number) => `${chunksPath(run)}/${String(index).padStart(5, '0')}`,
  /** What the first pass of each chunk of a CSV or Parquet run observed (output/run-schema.ts). */
  observations: (run: PlanRef) => `runs/${run.runId}/plans/${run.planId}/observations`,
  observation: (run: PlanRef, index: number) =>
    `runs/${run.runId}/plans/${run.planId}/observations/${String(index).padStart(5, '0')}`,
  /** File pages of all chunks of a plan, ordered by chunk then page. */
  files: filesPath,
  filePage: (run: PlanRef, index: number, page: number) =>
    `${filesPath(run)}/${String(index).padStart(5, '0')}-${String(page).padStart(4, '0')}`,
  finaliserClaim: (runId: string) => `runs/${runId}/claims/finaliser`,
  rejection: (id: string) => `rejections/${id}`,
};

export function parseDocument<T>(schema: z.ZodType<T>, path: string, data: unknown): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new Error(`corrupt document ${path}: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}
