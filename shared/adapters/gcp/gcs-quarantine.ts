import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import type { Storage } from '@google-cloud/storage';
import type { Quarantine, QuarantinedLine, QuarantineWriter } from '../../ports/quarantine.port';
import { toStorageFailure } from './storage-errors';

/**
 * The platform's quarantine in its own bucket: `gs://{bucket}/{prefix}/{runId}/chunk-{n}.jsonl`. Lines stream
 * into one upload; a retried chunk overwrites its earlier attempt's object, which is platform data, not the customer's.
 */
export class GcsQuarantine implements Quarantine {
  constructor(
    private readonly storage: Storage,
    private readonly bucket: string,
    private readonly prefix = 'quarantine',
  ) {}

  locationOf(runId: string): string {
    return `gs://${this.bucket}/${this.prefix}/${runId}/`;
  }

  open(runId: string, chunk: number): QuarantineWriter {
    const name = `${this.prefix}/${runId}/chunk-${String(chunk).padStart(5, '0')}.jsonl`;
    let body: PassThrough | undefined;
    let uploaded: Promise<void> | undefined;
    const start = (): PassThrough => {
      if (body) return body;
      const stream = new PassThrough();
      const upload = this.storage
        .bucket(this.bucket)
        .file(name)
        .createWriteStream({ resumable: false, metadata: { contentType: 'application/x-ndjson' } });
      // pipeline() aborts the upload when the writer is aborted, so a half-written file never replaces a whole one.
      uploaded = pipeline(stream, upload).catch((error: unknown) => {
        throw toStorageFailure(error, `writing gs://${this.bucket}/${name}`);
      });
      // An unhandled rejection must not crash the instance if the writer is aborted before committing.
      uploaded.catch(() => undefined);
      body = stream;
      return stream;
    };
    return {
      add: async (line: QuarantinedLine) => {
        const out = start();
        if (!out.write(`${JSON.stringify(line)}\n`)) await Promise.race([once(out, 'drain'), uploaded]);
      },
      commit: async () => {
        if (!body || !uploaded) return undefined;
        body.end();
        await uploaded;
        return `gs://${this.bucket}/${name}`;
      },
      abort: () => {
        body?.destroy(new Error('quarantine write aborted'));
        return Promise.resolve();
      },
    };
  }
}
