import type { Readable } from 'node:stream';

export interface Head {
  chunks: Buffer[];
  bytes: number;
  /** True when the whole stream fit under the limit. */
  ended: boolean;
}

/**
 * Reads up to `limit` bytes from `body` without consuming the rest, so that a small body can go in one request
 * and a large one can continue, head first, into a resumable session.
 */
export async function readHead(body: Readable, limit: number): Promise<Head> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  while (bytes < limit) {
    const chunk = body.read() as Buffer | string | null;
    if (chunk !== null) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(buffer);
      bytes += buffer.length;
      continue;
    }
    if (body.readableEnded) return { chunks, bytes, ended: true };
    if (body.errored) throw body.errored;
    if (body.destroyed) throw new Error('upload body closed before it ended');
    await new Promise<void>((resolve, reject) => {
      const settle = (error?: Error): void => {
        body.off('readable', onReady);
        body.off('end', onReady);
        body.off('error', onError);
        body.off('close', onReady);
        if (error) reject(error);
        else resolve();
      };
      const onReady = (): void => settle();
      const onError = (error: Error): void => settle(error);
      body.once('readable', onReady);
      body.once('end', onReady);
      body.once('error', onError);
      body.once('close', onReady);
    });
  }
  return { chunks, bytes, ended: false };
}
