import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { generateDemoSource } from '../../../shared/cli/demo-data';
import { runIdFor } from '../../../shared/domain/ids';
import type { ExportRequest } from '../../../shared/domain/export-request';
import { parseExportRequest } from '../../../shared/domain/export-request';
import type { GcsLocation } from '../../../shared/domain/source/gcs-uri';
import { parseGcsUri } from '../../../shared/domain/source/gcs-uri';
import type { GcsServer } from '../gcs-server';
import { serviceAccountKey } from '../service-account-key';
import { tempDir } from '../temp-dir';
import { describeError, httpRequest } from './http';
import { REPO_ROOT } from './dev-functions';

// The demo data of `npm run dev:emulators`, so that test/fixtures/request.example.json works as is: the source it
// reads, and the destination it writes to, registered through the api function.

export const REQUEST_FIXTURE = 'test/fixtures/request.example.json';
/** The bucket of the fixture's destination (`demo-destination`), in the customer's project. */
export const CUSTOMER_BUCKET = 'demo-customer-bucket';

export interface DemoRequest {
  /** The fixture as published. */
  json: unknown;
  request: ExportRequest;
  runId: string;
  /** Where the request reads its source: the demo source goes there. */
  source: GcsLocation;
}

export function loadDemoRequest(): DemoRequest {
  const json: unknown = JSON.parse(readFileSync(path.join(REPO_ROOT, REQUEST_FIXTURE), 'utf8'));
  const parsed = parseExportRequest(json);
  if (!parsed.ok) throw new Error(`${REQUEST_FIXTURE} is invalid: ${parsed.violations.join('; ')}`);
  const request = parsed.value;
  const [prefix] = request.source.prefixes;
  const source = prefix === undefined ? undefined : parseGcsUri(prefix);
  if (!source) throw new Error(`${REQUEST_FIXTURE} names no source prefix (gs://BUCKET/PREFIX/)`);
  return { json, request, runId: runIdFor(request.accountId, request.requestId), source };
}

export interface SeededSource {
  events: number;
  objects: number;
  bytes: number;
}

/**
 * Generates the demo event source (as `gcs-export demo` does: hourly parts, some gzip, a large backfill object, a
 * few malformed lines) for the last `days` days and uploads it under `location`.
 */
export async function seedSource(
  gcs: GcsServer,
  location: GcsLocation,
  options: { events: number; days: number; seed: number },
): Promise<SeededSource> {
  const from = new Date();
  from.setUTCHours(0, 0, 0, 0);
  from.setUTCDate(from.getUTCDate() - options.days);
  const dir = tempDir('dev-source');
  process.once('exit', dir.remove); // a Ctrl-C while seeding
  try {
    const generated = await generateDemoSource({ dir: dir.path, ...options, from });
    for (const object of generated.objects) {
      gcs.putObject(
        location.bucket,
        `${location.name}${object.name}`,
        await readFile(path.join(dir.path, object.name)),
        {
          contentType: object.gzip ? 'application/gzip' : 'application/x-ndjson',
        },
      );
    }
    return { events: generated.sourceRecords, objects: generated.objects.length, bytes: generated.bytes };
  } finally {
    dir.remove();
    process.removeListener('exit', dir.remove);
  }
}

/**
 * Registers the fixture's destination through the api function, as the dashboard does, with a fake
 * service-account key (the test Cloud Storage server accepts any client). A reused Firestore may hold it already,
 * sealed with an earlier run's key-encryption key: it is registered again under this run's.
 */
export async function registerDestination(
  apiUrl: string,
  apiToken: string,
  request: ExportRequest,
  bucket: string,
): Promise<'registered' | 'replaced'> {
  const authorization = `Bearer ${apiToken}`;
  const base = `${apiUrl}/v1/accounts/${request.accountId}/destinations`;
  const register = () =>
    httpRequest('POST', base, {
      timeoutMs: 30_000,
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({
        destinationId: request.destinationId,
        nickname: 'Demo customer bucket',
        bucket,
        key: serviceAccountKey(),
      }),
    });
  const fail = (what: string, status: number, body: string): Error =>
    new Error(
      `${what} destination ${request.destinationId} through the api function failed: ${status} ${body}`,
    );

  let answer = await register();
  if (answer.status === 201) return 'registered';
  if (answer.status !== 409) throw fail('registering', answer.status, answer.body);
  const removed = await httpRequest('DELETE', `${base}/${request.destinationId}`, {
    timeoutMs: 30_000,
    headers: { authorization },
  }).catch((error: unknown) => ({ status: 0, body: describeError(error) }));
  if (removed.status !== 204) throw fail('replacing', removed.status, removed.body);
  answer = await register();
  if (answer.status !== 201) throw fail('registering', answer.status, answer.body);
  return 'replaced';
}
