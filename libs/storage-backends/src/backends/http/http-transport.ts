/**
 * HTTP plumbing shared by the read-only HTTP and registry backends: undici requests
 * with redirects followed by hand (a registry may 307 a blob to its storage; the
 * Authorization header never follows a redirect to another origin), network errors
 * reported as the backend being unavailable, and response header helpers.
 */
import type { Readable } from 'node:stream';
import { readBounded } from '@kraken/foundation';
import { Agent, request, type Dispatcher } from 'undici';
import { StorageUnavailableError, UpstreamResponseError } from '../../errors.js';

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Readable & { dump(): Promise<void> };
  /** The URL that answered, after redirects. */
  readonly url: URL;
}

export interface HttpRequest {
  readonly method: 'GET' | 'HEAD';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

export interface HttpTransport {
  send(req: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

export interface HttpTransportOptions {
  /** Backend name, for errors. */
  readonly backend: string;
  /** Defaults to a keep-alive Agent owned (and closed) by the transport. */
  readonly dispatcher?: Dispatcher;
}

export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const owned = options.dispatcher === undefined;
  const dispatcher = options.dispatcher ?? new Agent({ connectTimeout: 10_000 });
  let closed: Promise<void> | undefined;

  return {
    async send(req) {
      let url = req.url;
      let headers: Record<string, string> = { ...req.headers };
      for (let hop = 0; ; hop++) {
        let res: Dispatcher.ResponseData;
        try {
          res = await request(url, {
            method: req.method,
            headers,
            dispatcher,
            ...(req.signal === undefined ? {} : { signal: req.signal }),
          });
        } catch (err) {
          if (req.signal?.aborted) throw err;
          throw new StorageUnavailableError(options.backend, err);
        }
        const location = header(res.headers, 'location');
        if (!REDIRECTS.has(res.statusCode) || location === undefined) {
          return { status: res.statusCode, headers: res.headers, body: res.body, url };
        }
        await res.body.dump();
        if (hop >= MAX_REDIRECTS)
          throw new UpstreamResponseError(
            options.backend,
            `more than ${MAX_REDIRECTS} redirects from ${redact(req.url)}`,
          );
        const next = new URL(location, url);
        if (next.protocol !== 'http:' && next.protocol !== 'https:')
          throw new UpstreamResponseError(
            options.backend,
            `redirect to unsupported URL scheme ${next.protocol}`,
          );
        if (next.origin !== url.origin) headers = withoutAuthorization(headers);
        url = next;
      }
    },

    close() {
      // Destroy, not a graceful close: a server that hangs would otherwise hold the
      // process's shutdown until its response headers timed out.
      closed ??= owned ? dispatcher.destroy() : Promise.resolve();
      return closed;
    },
  };
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
}

/** A single-valued response header (the first, when repeated). */
export function header(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  name: string,
): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Content-Length as a safe integer, or undefined when absent or malformed. */
export function contentLength(headers: HttpResponse['headers']): number | undefined {
  const value = header(headers, 'content-length');
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Last-Modified, or the epoch when the server does not say (immutable content: age unknown). */
export function lastModified(headers: HttpResponse['headers']): Date {
  const value = header(headers, 'last-modified');
  const time = value === undefined ? NaN : Date.parse(value);
  return new Date(Number.isNaN(time) ? 0 : time);
}

/** The URL without credentials or query (which may hold signatures), for messages. */
export function redact(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/**
 * The whole body if it is at most `maxBytes`; undefined otherwise. Past the limit the
 * foundation's readBounded destroys its source, which goes through `discard` here.
 */
export async function readBoundedBody(body: Readable, maxBytes: number): Promise<Buffer | undefined> {
  const { bytes } = await readBounded(
    { [Symbol.asyncIterator]: () => body[Symbol.asyncIterator](), destroy: () => discard(body) },
    maxBytes,
  );
  return bytes;
}

/**
 * Drops a body without reading the rest. undici reports the destroy as an AbortError
 * that nobody is listening for, so one listener swallows it.
 */
export function discard(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}
