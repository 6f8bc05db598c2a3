/**
 * Requests to the API server as plain JSON. Authentication, TLS and streaming are the
 * client library's (KubeConfig, its fetch-based HTTP library, Watch); this file only
 * skips the library's typed (de)serialisation, so that every object the runtime holds
 * (from a get, a list or a watch) has one shape, the JSON the API server sent, and so
 * that unknown fields of custom resources survive. Error statuses become KubeApiError,
 * failures to connect KubeApiUnreachableError.
 */
import {
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  ServerConfiguration,
  Watch,
  type KubeConfig,
} from '@kubernetes/client-node';
import { KubeApiError, KubeApiUnreachableError, KubeConfigUnavailableError } from '../errors.js';

export type ApiMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiRequest {
  readonly method: ApiMethod;
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Content-Type of the body; `application/json` unless a patch type is given. */
  readonly contentType?: string;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
}

/** One event of a watch: ADDED, MODIFIED, DELETED or BOOKMARK, and its object. */
export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  readonly object: unknown;
}

export interface ApiTransport {
  request(req: ApiRequest): Promise<unknown>;
  /**
   * Streams the events of a watch to `onEvent`. Resolves when the server ends the
   * watch (its timeout) or `signal` aborts; rejects with KubeApiError on an error
   * status or an ERROR event (410 when the resourceVersion is too old), and with
   * KubeApiUnreachableError when the connection fails.
   */
  watch(
    path: string,
    query: Readonly<Record<string, string | number | boolean | undefined>>,
    onEvent: (event: WatchEvent) => void,
    signal?: AbortSignal,
  ): Promise<void>;
}

const methods: Record<ApiMethod, HttpMethod> = {
  GET: HttpMethod.GET,
  POST: HttpMethod.POST,
  PUT: HttpMethod.PUT,
  PATCH: HttpMethod.PATCH,
  DELETE: HttpMethod.DELETE,
};

export function createApiTransport(kubeConfig: KubeConfig): ApiTransport {
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) throw new KubeConfigUnavailableError(['the kubeconfig names no current cluster']);
  const server = new ServerConfiguration(cluster.server.replace(/\/+$/, ''), {});
  const http = new IsomorphicFetchHttpLibrary();
  const watcher = new Watch(kubeConfig);

  return {
    async request(req) {
      const ctx = server.makeRequestContext(req.path, methods[req.method]);
      for (const [name, value] of Object.entries(req.query ?? {})) {
        if (value !== undefined) ctx.setQueryParam(name, String(value));
      }
      ctx.setHeaderParam('Accept', 'application/json');
      if (req.body !== undefined) {
        ctx.setHeaderParam('Content-Type', req.contentType ?? 'application/json');
        ctx.setBody(JSON.stringify(req.body));
      }
      if (req.signal !== undefined) ctx.setSignal(req.signal);
      let status: number;
      let text: string;
      try {
        await kubeConfig.applySecurityAuthentication(ctx);
        const res = await http.send(ctx).toPromise();
        status = res.httpStatusCode;
        text = await res.body.text();
      } catch (err) {
        if (req.signal?.aborted) throw req.signal.reason;
        throw new KubeApiUnreachableError(req.method, req.path, err);
      }
      if (status >= 200 && status < 300) return text === '' ? undefined : (JSON.parse(text) as unknown);
      throw statusError(req.method, req.path, status, parseJson(text));
    },

    watch(path, query, onEvent, signal) {
      return new Promise<void>((resolve, reject) => {
        let controller: AbortController | undefined;
        let settled = false;
        const finish = (err?: unknown) => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          controller?.abort();
          if (err === undefined) resolve();
          else reject(err as Error);
        };
        const onAbort = () => finish();
        if (signal?.aborted) return resolve();
        signal?.addEventListener('abort', onAbort, { once: true });
        const params: Record<string, string | number | boolean | undefined> = { ...query };
        watcher
          .watch(
            path,
            params,
            (type: string, object: unknown) => {
              if (settled) return;
              if (type === 'ERROR') {
                const status = (object as { code?: unknown } | null)?.code;
                finish(statusError('WATCH', path, typeof status === 'number' ? status : 500, object));
                return;
              }
              if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED' || type === 'BOOKMARK') {
                try {
                  onEvent({ type, object });
                } catch (err) {
                  finish(err);
                }
              }
            },
            (err: unknown) => {
              if (signal?.aborted || err === null || err === undefined) return finish();
              const status = (err as { statusCode?: unknown }).statusCode;
              finish(
                typeof status === 'number'
                  ? statusError('WATCH', path, status, undefined)
                  : new KubeApiUnreachableError('WATCH', path, err),
              );
            },
          )
          .then(
            (c) => {
              controller = c;
              if (settled) c.abort();
            },
            (err: unknown) => finish(new KubeApiUnreachableError('WATCH', path, err)),
          );
      });
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const reasonByStatus: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Expired',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** A KubeApiError from a status and, when there is one, the Status object the server sent. */
function statusError(method: string, path: string, status: number, body: unknown): KubeApiError {
  const st = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const reason = typeof st.reason === 'string' && st.reason !== '' ? st.reason : reasonByStatus[status];
  const message = typeof st.message === 'string' ? st.message : typeof body === 'string' ? body : '';
  return new KubeApiError({
    method,
    path,
    status,
    reason: reason ?? 'Unknown',
    message: message.slice(0, 1000),
  });
}
