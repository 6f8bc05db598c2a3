/**
 * A small static HTTP file server for backend tests: GET and HEAD of files under a
 * directory with Content-Length and Last-Modified, single `Range: bytes=s-e` (206, or
 * 416 with `bytes *\/size`), and an `intercept` hook for failures and redirects. It
 * listens on an ephemeral 127.0.0.1 port.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve, sep } from 'node:path';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
}

export interface HttpFileServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface HttpFileServerOptions {
  readonly root: string;
  /** When false, Range is ignored and every GET is a 200 with the whole file. */
  readonly ranges?: boolean;
  /** Answers the request itself when it returns true (after recording it). */
  readonly intercept?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export async function startHttpFileServer(options: HttpFileServerOptions): Promise<HttpFileServer> {
  const root = resolve(options.root);
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (options.intercept?.(req, res)) return;
    serve(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const path = resolve(root, `.${pathname}`);
    const s = path.startsWith(root + sep) ? await stat(path).catch(() => undefined) : undefined;
    if (s === undefined || !s.isFile()) {
      res.writeHead(404).end();
      return;
    }
    const headers = { 'last-modified': s.mtime.toUTCString(), 'accept-ranges': 'bytes' };
    const match = options.ranges === false ? null : /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = s.size - 1;
    let status = 200;
    if (match !== null) {
      start = Number(match[1]);
      end = match[2] === '' ? s.size - 1 : Math.min(Number(match[2]), s.size - 1);
      if (start >= s.size || end < start) {
        res.writeHead(416, { 'content-range': `bytes */${s.size}` }).end();
        return;
      }
      status = 206;
      Object.assign(headers, { 'content-range': `bytes ${start}-${end}/${s.size}` });
    }
    res.writeHead(status, { ...headers, 'content-length': String(end - start + 1) });
    if (req.method === 'HEAD' || end < start) {
      res.end();
      return;
    }
    createReadStream(path, { start, end })
      .on('error', () => res.destroy())
      .pipe(res);
  }

  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
