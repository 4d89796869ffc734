import http from 'node:http';

export interface HttpResult {
  status: number;
  body: string;
}

/**
 * One plain HTTP/1.1 request without keep-alive (no pooled socket outlives the call, so neither Jest's parent
 * process nor a test worker is held open by it). Rejects on connection errors and after `timeoutMs`.
 */
export function httpRequest(
  method: string,
  url: string,
  options: { timeoutMs?: number; body?: string; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const { timeoutMs = 5_000, body, headers = {} } = options;
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method,
        agent: false,
        headers: {
          ...headers,
          ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

export const describeError = (error: unknown): string => {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${code} ${error.message}` : error.message;
  }
  return String(error);
};
