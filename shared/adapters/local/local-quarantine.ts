import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Quarantine, QuarantinedLine, QuarantineWriter } from '../../ports/quarantine.port';

/** The platform's quarantine as a folder: `{root}/{runId}/chunk-{n}.jsonl`, one JSON object per rejected line. */
export class LocalQuarantine implements Quarantine {
  constructor(readonly root: string) {}

  locationOf(runId: string): string {
    return path.join(this.root, runId);
  }

  open(runId: string, chunk: number): QuarantineWriter {
    const target = path.join(this.root, runId, `chunk-${String(chunk).padStart(5, '0')}.jsonl`);
    const temporary = `${target}.${randomUUID()}.tmp`;
    let stream: WriteStream | undefined;
    const ensureStream = async (): Promise<WriteStream> => {
      if (!stream) {
        await mkdir(path.dirname(target), { recursive: true });
        stream = createWriteStream(temporary);
      }
      return stream;
    };
    const close = async (): Promise<void> => {
      if (!stream) return;
      stream.end();
      await once(stream, 'close');
    };
    return {
      add: async (line: QuarantinedLine) => {
        const out = await ensureStream();
        if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
      },
      commit: async () => {
        if (!stream) return undefined;
        await close();
        // A retried chunk replaces its earlier attempt's file with the same content.
        await rename(temporary, target);
        return target;
      },
      abort: async () => {
        await close();
        await unlink(temporary).catch(() => undefined);
      },
    };
  }
}
