/**
 * The HTTP client of the internal /v1/ APIs: keep-alive connections to one origin, on
 * Node's own http and https modules. Node's HTTP parser is compiled into the binary, so
 * a process that talks to its origins, tracker and build-index this way loads no
 * second HTTP stack: undici, with its WebAssembly parser, cost an idle agent about
 * 3 MiB of resident memory (9 MiB in a bare process). Answers start within
 * `headersTimeoutMs` of the request being sent, and never pause longer than
 * `bodyTimeoutMs` while read.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { systemClock, type TimerHandle, type Timers } from '@kraken/foundation';
import type { ClientTlsContext } from '../tls/client-tls.js';
import { HttpTimeoutError } from '../api/api-errors.js';
import { HttpResponseBody } from './response-body.js';

export interface HttpPoolOptions {
  /** Keep-alive connections held open at most (default 4); further requests wait for one. */
  readonly connections?: number;
  /** Time allowed to connect, and for an answer to start once the request is sent (ms). */
  readonly headersTimeoutMs: number;
  /** Longest pause in an answer's body while it is read (ms); 0 for none. */
  readonly bodyTimeoutMs: number;
  /** TLS for https:// origins: the client files read last. Absent, the system CAs. */
  readonly tls?: ClientTlsContext | undefined;
}

export interface HttpRequest {
  readonly method: string;
  /** Path and query, starting with `/`. */
  readonly path: string;
  readonly headers?: Record<string, string>;
  /** Sent as given; a stream is piped, and its failure fails the request with its own error. */
  readonly body?: string | Uint8Array | Readable;
  readonly signal?: AbortSignal | undefined;
  /** Overrides the pool's headers timeout for this request (ms). */
  readonly headersTimeoutMs?: number;
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  /** Must be read or dropped (`dump()`, `destroy()`), or the connection stays taken. */
  readonly body: HttpResponseBody;
}

export interface HttpPool {
  /** Scheme, host and port, e.g. http://127.0.0.1:15002. */
  readonly origin: string;
  readonly closed: boolean;
  /** The answer once its headers arrived; rejects when the exchange fails before them. */
  request(request: HttpRequest): Promise<HttpResponse>;
  /** Refuses new requests, waits for those under way (bodies included), then closes. */
  close(): Promise<void>;
  /** Closes every connection now; requests under way fail. */
  destroy(): void;
}

export interface HttpPoolDeps {
  readonly timers?: Timers;
}

export function createHttpPool(origin: string, options: HttpPoolOptions, deps: HttpPoolDeps = {}): HttpPool {
  const url = new URL(origin);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`${origin}: only http:// and https:// are supported`);
  }
  const secure = url.protocol === 'https:';
  const timers = deps.timers ?? systemClock;
  const connections = options.connections ?? 4;
  // An idle connection is closed after a minute, or before the server's own keep-alive
  // timeout when its answers announce a shorter one (`Keep-Alive: timeout=N`): Node's
  // agent honours that hint only when it has a timeout of its own, and without it a
  // request could go out on a connection the server is closing.
  const agentOptions = {
    keepAlive: true,
    maxSockets: connections,
    maxFreeSockets: connections,
    timeout: 60_000,
  };
  // No TLS session resumption: a session from before a reload of the client files
  // would carry on the old certificate's identity.
  const agent = secure
    ? new https.Agent({ ...agentOptions, maxCachedSessions: 0 })
    : new http.Agent(agentOptions);
  const transport = secure ? https : http;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  let closed = false;
  const underWay = new Set<Promise<void>>();

  const request = (req: HttpRequest): Promise<HttpResponse> => {
    if (closed) return Promise.reject(new Error(`${url.origin}: the client is closed`));
    const what = `${req.method} ${url.origin}${req.path}`;
    const headersTimeoutMs = req.headersTimeoutMs ?? options.headersTimeoutMs;
    let settle!: () => void;
    const done = new Promise<void>((resolve) => (settle = resolve));
    underWay.add(done);
    void done.then(() => underWay.delete(done));

    return new Promise<HttpResponse>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const stopTimer = () => {
        if (timer !== undefined) timers.clearTimeout(timer);
        timer = undefined;
      };
      const startTimer = () => {
        stopTimer();
        timer = timers.setTimeout(() => {
          timer = undefined;
          outgoing.destroy(new HttpTimeoutError(what, 'headers', headersTimeoutMs));
        }, headersTimeoutMs);
      };
      const tls = secure ? options.tls : undefined;
      const secureContext = tls?.secureContext();
      const outgoing = transport.request({
        agent,
        host,
        port,
        method: req.method,
        path: req.path,
        ...(req.headers === undefined ? {} : { headers: req.headers }),
        ...(req.signal === undefined ? {} : { signal: req.signal }),
        ...(secureContext === undefined ? {} : { secureContext }),
        ...(tls?.serverName === undefined ? {} : { servername: tls.serverName }),
      });
      outgoing.once('socket', (socket: Socket) => {
        // Connecting counts against the same timeout; sending the body does not.
        if (socket.connecting) {
          startTimer();
          socket.once('connect', stopTimer);
        }
      });
      outgoing.once('finish', startTimer);
      outgoing.on('error', (err) => {
        stopTimer();
        settle();
        reject(err);
      });
      outgoing.once('response', (incoming: IncomingMessage) => {
        stopTimer();
        const body = new HttpResponseBody(incoming, { timeoutMs: options.bodyTimeoutMs, timers, what });
        const onAbort = () => body.destroy(req.signal?.reason as Error);
        req.signal?.addEventListener('abort', onAbort, { once: true });
        body.once('close', () => {
          req.signal?.removeEventListener('abort', onAbort);
          settle();
        });
        resolve({ statusCode: incoming.statusCode ?? 0, headers: incoming.headers, body });
      });
      const source = req.body;
      if (source instanceof Readable) {
        source.once('error', (err) => outgoing.destroy(err));
        source.pipe(outgoing);
      } else {
        outgoing.end(source);
      }
    });
  };

  return {
    origin: url.origin,
    get closed() {
      return closed;
    },
    request,
    async close() {
      closed = true;
      await Promise.all(underWay);
      agent.destroy();
    },
    destroy() {
      closed = true;
      agent.destroy();
    },
  };
}
