import path from 'node:path';
import type { CloudEvent } from '@google-cloud/functions-framework';
import { getFunction } from '@google-cloud/functions-framework/testing';
import { MemoryStateStore } from '../../../shared/adapters/local/memory-state-store';
import { createLocalRuntime } from '../../../shared/composition/local';
import { loadConfig } from '../../../shared/config';
import { registerDestination } from '../../../shared/domain/destinations/manage-destinations';
import { runDocSchema, paths } from '../../../shared/domain/documents';
import { runIdFor } from '../../../shared/domain/ids';
import { decodePubSubEvent } from '../../../shared/handlers/pubsub-event';
import { eventLines } from '../../support/local-harness';
import { pollUntil } from '../../support/poll';
import { tempDir } from '../../support/temp-dir';
import { mkdir, writeFile } from 'node:fs/promises';

const SOURCE = 'gs://fn-source/events/';
const event = (data: unknown, topic = 'export-requests'): CloudEvent<unknown> => ({
  specversion: '1.0',
  id: 'evt-1',
  type: 'google.cloud.pubsub.topic.v1.messagePublished',
  source: `//pubsub.googleapis.com/projects/demo/topics/${topic}`,
  data,
});
const message = (payload: unknown) => ({
  message: {
    data: Buffer.from(JSON.stringify(payload)).toString('base64'),
    messageId: 'm-1',
    attributes: { a: 'b' },
  },
  subscription: 'projects/demo/subscriptions/s',
});

describe('decodePubSubEvent', () => {
  it.each([
    ['a JSON message', message({ x: 1 }), { ok: true, payload: { x: 1 } }],
    ['a message without data', { message: { messageId: 'm' } }, { ok: false, reason: 'message has no data' }],
    ['data that is not JSON', { message: { data: Buffer.from('{nope').toString('base64') } }, { ok: false }],
    ['an event that is not Pub/Sub', { hello: 'world' }, { ok: false }],
  ])('decodes %s', (_name, data, expected) => {
    expect(decodePubSubEvent(event(data))).toMatchObject(expected);
  });

  it('takes the topic from the CloudEvent source and the id and attributes from the message', () => {
    expect(decodePubSubEvent(event(message({})))).toMatchObject({
      delivery: { topic: 'export-requests', messageId: 'm-1', attributes: { a: 'b' } },
    });
  });
});

describe('functions/index on the embedded adapters', () => {
  const dir = tempDir('functions');
  afterAll(() => dir.remove());

  it('registers every function, and planExport runs a request to a manifest', async () => {
    process.env.GCS_EXPORT_DATA_DIR = dir.path;
    const setup = await createLocalRuntime({ config: loadConfig({}), dataDir: dir.path, persistState: true });
    await setup.buckets.createBucket('fn-destination');
    await registerDestination(setup.destinationDeps, {
      accountId: 'acct-fn',
      destinationId: 'dest-fn',
      nickname: 'fn',
      bucket: 'fn-destination',
    });
    await setup.close();
    const sourceFile = path.join(dir.path, 'buckets', 'fn-source', 'events', 'a.ndjson');
    await mkdir(path.dirname(sourceFile), { recursive: true });
    await writeFile(sourceFile, eventLines(50));

    await import('../../../functions/index');
    for (const name of ['planExport', 'writeChunk', 'deadLetter', 'checkFailures', 'api'])
      expect(getFunction(name)).toBeDefined();
    const planExport = getFunction('planExport') as (e: CloudEvent<unknown>) => Promise<void>;
    await planExport(event({ message: {} }));
    await planExport(
      event(
        message({
          requestId: 'fn-req',
          accountId: 'acct-fn',
          exportId: 'fn-export',
          destinationId: 'dest-fn',
          kind: 'events',
          window: { from: '2026-02-01T00:00:00Z', to: '2026-02-03T00:00:00Z' },
          source: { prefixes: [SOURCE] },
          createdBy: { email: 'a@example.com', name: 'A' },
        }),
      ),
    );

    const runId = runIdFor('acct-fn', 'fn-req');
    const run = await pollUntil('the run to succeed', async () => {
      const doc = await new MemoryStateStore(path.join(dir.path, 'state.json')).get(paths.run(runId));
      const parsed = doc ? runDocSchema.parse(doc) : undefined;
      return parsed?.status === 'succeeded' ? parsed : undefined;
    });
    expect(run.totals).toMatchObject({ records: 50, quarantined: 0 });
  });
});
