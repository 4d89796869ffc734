import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { GcsError } from './errors';

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Reads and discards the request body, so an early answer does not break the client's upload mid-stream. */
export async function drain(req: IncomingMessage): Promise<void> {
  try {
    await readBody(req);
  } catch {
    // the client went away; nothing to answer
  }
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(',') : value;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    // The client's multipart path only parses these two spellings as JSON (teeny-request).
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendEmpty(
  res: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders = {},
  message?: string,
): void {
  if (message) res.writeHead(status, message, { 'Content-Length': 0, ...headers });
  else res.writeHead(status, { 'Content-Length': 0, ...headers });
  res.end();
}

export function sendError(res: ServerResponse, error: GcsError): void {
  sendJson(res, error.status, error.body());
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
