import { performance } from 'node:perf_hooks';
import type { PubSub } from '@google-cloud/pubsub';
import { failureSchema, RUN_STATUSES, runTotalsSchema } from '../../../shared/domain/documents';
import { successMarkerName } from '../../../shared/domain/output/layout';
import { z } from '../../../shared/domain/zod';
import type { HostedFunction } from '../functions-host';
import type { GcsServer } from '../gcs-server';
import { pollUntil } from '../poll';
import { TOPICS } from '../pubsub-wiring';
import type { DemoRequest } from './dev-seed';
import { httpRequest } from './http';

// `npm run dev:emulators -- --smoke`: what a developer does by hand once the local cloud is up, checked.

/** The part of the api's `GET /runs/{runId}` answer the smoke run reads. */
const runAnswerSchema = z.object({
  runId: z.string(),
  status: z.enum(RUN_STATUSES),
  chunkCount: z.number().optional(),
  totals: runTotalsSchema.optional(),
  manifest: z.object({ bucket: z.string(), name: z.string() }).optional(),
  failure: failureSchema.optional(),
});
type RunAnswer = z.infer<typeof runAnswerSchema>;

export interface SmokeDeps {
  pubsub: PubSub;
  apiUrl: string;
  apiToken: string;
  demo: DemoRequest;
  gcs: GcsServer;
  customerBucket: string;
  functions: HostedFunction[];
  /** Progress (stderr). */
  say: (line: string) => void;
  /** The summary (stdout). */
  print: (line: string) => void;
  timeoutMs?: number;
}

const count = (n: number): string => n.toLocaleString('en-US');
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/**
 * Publishes the example request as `gcs-export publish` does, follows its run through the api function until it
 * settles, and checks what landed in the customer's bucket. True when the run succeeded with its files.
 */
export async function runSmoke(deps: SmokeDeps): Promise<boolean> {
  const { demo, say, print } = deps;
  const { accountId, requestId } = demo.request;
  const fetchRun = async (): Promise<RunAnswer | undefined> => {
    const { status, body } = await httpRequest(
      'GET',
      `${deps.apiUrl}/v1/accounts/${accountId}/runs/${demo.runId}`,
      { timeoutMs: 10_000, headers: { authorization: `Bearer ${deps.apiToken}` } },
    );
    if (status === 404) return undefined;
    if (status !== 200) throw new Error(`GET runs/${demo.runId}: ${status} ${body}`);
    return runAnswerSchema.parse(JSON.parse(body));
  };

  const before = await fetchRun();
  if (before) {
    say(
      `!!! smoke: run ${demo.runId} of ${requestId} exists already (${before.status}) in the reused Firestore. A` +
        ' request is planned only once, and that run wrote to an earlier Cloud Storage server: unset' +
        ' FIRESTORE_EMULATOR_HOST for a fresh Firestore.',
    );
    return false;
  }
  const started = performance.now();
  const seconds = (): string => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  const messageId = await deps.pubsub.topic(TOPICS.requests).publishMessage({
    json: demo.json,
    attributes: { accountId, requestId },
  });
  say(
    `smoke: published request ${requestId} to ${TOPICS.requests} (message ${messageId}); run ${demo.runId}`,
  );

  let last = '';
  let run: RunAnswer;
  try {
    run = await pollUntil(
      `run ${demo.runId} to succeed or fail`,
      async () => {
        const current = await fetchRun();
        const seen = current
          ? `${current.status}${current.chunkCount === undefined ? '' : ` (${current.chunkCount} chunks)`}`
          : 'not planned yet';
        if (seen !== last) say(`smoke: ${seconds()} run ${demo.runId} ${(last = seen)}`);
        return current?.status === 'succeeded' || current?.status === 'failed' ? current : undefined;
      },
      deps.timeoutMs ?? 120_000,
    );
  } catch (error) {
    say(`!!! smoke: ${(error as Error).message} (last seen: ${last})`);
    for (const fn of deps.functions) {
      say(
        `--- ${fn.target} (${fn.logFile}), last lines:\n${fn.log().trimEnd().split('\n').slice(-10).join('\n')}`,
      );
    }
    return false;
  }

  const { prefix, exportId } = demo.request;
  const marker = successMarkerName(prefix, exportId, demo.runId);
  const hasMarker = deps.gcs.object(deps.customerBucket, marker) !== undefined;
  const hasManifest =
    run.manifest !== undefined && deps.gcs.object(run.manifest.bucket, run.manifest.name) !== undefined;
  const outputPrefix = prefix === '' ? '' : `${prefix}/`;
  const objects = [...deps.gcs.objects(deps.customerBucket).keys()].filter((name) =>
    name.startsWith(outputPrefix),
  );
  const totals = run.totals;
  print('');
  print(`smoke: run ${run.runId} ${run.status} ${seconds()} after publishing`);
  if (run.failure) print(`  failure      ${run.failure.code}: ${run.failure.message}`);
  if (run.chunkCount !== undefined) print(`  chunks       ${run.chunkCount}`);
  if (totals) {
    const uncompressed =
      totals.uncompressedBytes === undefined ? '' : `, ${mib(totals.uncompressedBytes)} uncompressed`;
    print(
      `  source       ${count(totals.sourceLines)} lines, ${mib(totals.sourceBytes)} stored${uncompressed}`,
    );
    print(`  records      ${count(totals.records)} in ${count(totals.files)} files (${mib(totals.bytes)})`);
    print(`  filtered out ${count(totals.filteredOut)}; quarantined ${count(totals.quarantined)}`);
  }
  print(`  manifest     ${run.manifest ? `gs://${run.manifest.bucket}/${run.manifest.name}` : '—'}`);
  print(`  _SUCCESS     ${hasMarker ? 'present' : 'MISSING'}`);
  print(`  objects      ${count(objects.length)} under gs://${deps.customerBucket}/${outputPrefix}`);
  const ok = run.status === 'succeeded' && (totals?.records ?? 0) > 0 && hasManifest && hasMarker;
  print(ok ? 'smoke: OK' : 'smoke: FAILED');
  return ok;
}
