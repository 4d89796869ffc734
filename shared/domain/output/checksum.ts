import { Transform, type TransformCallback } from 'node:stream';
import { crc32c } from '@node-rs/crc32';

/** GCS reports CRC32C as base64 of the big-endian 32-bit value. */
export function crc32cToBase64(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
}

export function crc32cOf(data: Buffer | string): string {
  return crc32cToBase64(crc32c(typeof data === 'string' ? Buffer.from(data) : data));
}

/** Pass-through stream that counts bytes and computes their CRC32C on the way. */
export class ChecksumTap extends Transform {
  private crc = 0;
  bytes = 0;
  finished = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.crc = crc32c(chunk, this.crc);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.finished = true;
    callback();
  }

  get crc32c(): string {
    return crc32cToBase64(this.crc);
  }
}
