/**
 * Requests to one registry's `/v2/` API with its authentication: the credentials
 * already known go out with the request, a 401 is answered once with fresh ones
 * (registry-auth.ts), and a second 401 is a RegistryAuthError. One client, with its
 * connection pool and token cache, serves every repository view of a backend.
 */
import type { Dispatcher } from 'undici';
import { RegistryAuthError, UpstreamResponseError } from '../../errors.js';
import { createHttpTransport, header, type HttpResponse } from '../http/http-transport.js';
import { createRegistryAuth, type RegistryCredentials } from './registry-auth.js';

export interface RegistryRequest {
  readonly method: 'GET' | 'HEAD';
  /** Below `/v2/`, query included, e.g. `library/redis/tags/list?n=100`. */
  readonly path: string;
  /** The repository whose pull scope the request needs; undefined for the API root. */
  readonly repository: string | undefined;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

export interface RegistryClient {
  readonly name: string;
  /** The absolute URL of an API path, e.g. for checking where a Link points. */
  apiUrl(path: string): URL;
  send(req: RegistryRequest): Promise<HttpResponse>;
  /** An error for a response this caller did not expect (after disposing of its body). */
  unexpected(res: HttpResponse, what: string): Promise<UpstreamResponseError>;
  close(): Promise<void>;
}

export interface RegistryClientOptions {
  readonly url: URL;
  readonly name: string;
  readonly credentials?: RegistryCredentials;
  readonly headers?: Readonly<Record<string, string>>;
  readonly dispatcher?: Dispatcher;
  readonly now: () => number;
}

export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const { name, url } = options;
  const basePath = url.pathname.replace(/\/+$/, '');
  const headers = { ...options.headers };
  const transport = createHttpTransport({
    backend: name,
    ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
  });
  const auth = createRegistryAuth({
    backend: name,
    transport,
    now: options.now,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
  const apiUrl = (path: string) => new URL(`${url.origin}${basePath}/v2/${path}`);

  return {
    name,
    apiUrl,

    async send(req) {
      const scope = req.repository === undefined ? undefined : `repository:${req.repository}:pull`;
      const attempt = (authorization: string | undefined) =>
        transport.send({
          method: req.method,
          url: apiUrl(req.path),
          headers: { ...headers, ...req.headers, ...(authorization === undefined ? {} : { authorization }) },
          ...(req.signal === undefined ? {} : { signal: req.signal }),
        });
      const sent = await auth.authorization(scope, req.signal);
      const first = await attempt(sent);
      if (first.status !== 401) return first;
      await first.body.dump();
      const fresh = await auth.respond({
        scope,
        wwwAuthenticate: header(first.headers, 'www-authenticate'),
        sent,
        signal: req.signal,
      });
      const second = await attempt(fresh);
      if (second.status !== 401) return second;
      await second.body.dump();
      throw new RegistryAuthError(name, `the registry refused the credentials for ${scope ?? 'its API'}`);
    },

    async unexpected(res, what) {
      await res.body.dump();
      return new UpstreamResponseError(name, `unexpected status ${res.status} for ${what}`, {
        status: res.status,
      });
    },

    close: () => transport.close(),
  };
}
