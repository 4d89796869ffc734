import { createHash } from 'node:crypto';
import { crc32c } from '@node-rs/crc32';
import { checksumMismatch } from './errors';

/** CRC32C as GCS reports it: base64 of the big-endian 32-bit value. */
export function crc32cBase64(data: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32c(data) >>> 0);
  return out.toString('base64');
}

export function md5Base64(data: Uint8Array): string {
  return createHash('md5').update(data).digest('base64');
}

export interface Checksums {
  crc32c: string;
  md5Hash: string;
}

export function checksumsOf(data: Uint8Array): Checksums {
  return { crc32c: crc32cBase64(data), md5Hash: md5Base64(data) };
}

/** Parses `crc32c=…,md5=…` (the X-Goog-Hash header); unknown entries are ignored. */
export function parseGoogHash(header: string | undefined): Partial<Checksums> {
  const out: Partial<Checksums> = {};
  for (const pair of (header ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at < 0) continue;
    const key = pair.slice(0, at).trim().toLowerCase();
    const value = pair.slice(at + 1).trim();
    if (key === 'crc32c') out.crc32c = value;
    else if (key === 'md5') out.md5Hash = value;
  }
  return out;
}

/** Throws GCS's 400 `invalid` when a checksum the client declared does not match the bytes. */
export function verifyDeclared(declared: Partial<Checksums>, actual: Checksums): void {
  if (declared.crc32c !== undefined && declared.crc32c !== actual.crc32c) {
    throw checksumMismatch('crc32c', declared.crc32c, actual.crc32c);
  }
  if (declared.md5Hash !== undefined && declared.md5Hash !== actual.md5Hash) {
    throw checksumMismatch('md5', declared.md5Hash, actual.md5Hash);
  }
}
