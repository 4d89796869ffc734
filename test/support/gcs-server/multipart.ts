// multipart/related bodies of uploadType=multipart: a JSON metadata part, then the media part.
import { invalid } from './errors';

export interface MultipartPart {
  headers: Record<string, string>;
  body: Buffer;
}

export function boundaryOf(contentType: string | undefined): string {
  const match = /^multipart\/related\s*;(?:.*;)?\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary)
    throw invalid('Content-Type of a multipart upload must be multipart/related with a boundary');
  return boundary;
}

export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const malformed = () => invalid('Multipart body is malformed');
  const delimiter = Buffer.from(`--${boundary}`);
  const separator = Buffer.from(`\r\n--${boundary}`);
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw malformed();
  pos += delimiter.length;
  const parts: MultipartPart[] = [];
  for (;;) {
    if (body.subarray(pos, pos + 2).toString() === '--') return parts;
    const lineEnd = body.indexOf('\r\n', pos);
    if (lineEnd < 0) throw malformed();
    const headersEnd = body.indexOf('\r\n\r\n', lineEnd);
    const emptyHeaders = body.subarray(lineEnd, lineEnd + 4).toString() === '\r\n\r\n';
    if (headersEnd < 0 && !emptyHeaders) throw malformed();
    const contentStart = emptyHeaders ? lineEnd + 4 : headersEnd + 4;
    const headers = emptyHeaders ? {} : parseHeaders(body.subarray(lineEnd + 2, headersEnd).toString('utf8'));
    const end = body.indexOf(separator, contentStart);
    if (end < 0) throw malformed();
    parts.push({ headers, body: body.subarray(contentStart, end) });
    pos = end + separator.length;
  }
}

function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0) out[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  return out;
}
