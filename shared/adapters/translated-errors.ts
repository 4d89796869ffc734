import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';

/**
 * `source` seen through a stream whose errors are translated into the port's vocabulary (StorageFailure); closing
 * the returned stream early (a reader that stops) releases the source too.
 */
export function withTranslatedErrors(source: Readable, translate: (error: Error) => Error): Readable {
  const out = new PassThrough();
  source.on('error', (error) => out.destroy(translate(error)));
  out.on('close', () => source.destroy());
  return source.pipe(out);
}
