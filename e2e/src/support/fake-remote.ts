/**
 * A tiny HTTP server standing in for a remote cluster's build-index: it records every
 * request (method, path, body, time) and answers as the test's handler says: garbage,
 * 500s, or forwarded to a real build-index (see `forward`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
  /** Date.now() when the request had arrived in full. */
  readonly at: number;
}

export type FakeHandler = (request: RecordedRequest, response: ServerResponse) => Promise<void> | void;

export interface FakeRemote {
  readonly url: string;
  /** Every request so far, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  close(): Promise<void>;
}

export async function startFakeRemote(handler: FakeHandler): Promise<FakeRemote> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks),
        at: Date.now(),
      };
      requests.push(recorded);
      Promise.resolve(handler(recorded, res)).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(599);
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Replays the request against `target` (a base URL) and sends its answer back unchanged. */
export async function forward(
  target: string,
  request: RecordedRequest,
  response: ServerResponse,
): Promise<void> {
  const headers = new Headers();
  for (const [key, value] of Object.entries(request.headers)) {
    if (value === undefined || ['host', 'connection', 'content-length'].includes(key)) continue;
    headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  const answer = await fetch(`${target}${request.path}`, {
    method: request.method,
    headers,
    ...(hasBody ? { body: request.body } : {}),
  });
  const body = Buffer.from(await answer.arrayBuffer());
  const out: Record<string, string> = {};
  const contentType = answer.headers.get('content-type');
  if (contentType !== null) out['content-type'] = contentType;
  // A HEAD answer has no body to measure: its length is the one the server declared.
  const length = answer.headers.get('content-length');
  if (request.method === 'HEAD' && length !== null) out['content-length'] = length;
  response.writeHead(answer.status, out);
  response.end(body);
}
