/**
 * The undici entry point of the app bundles: tools/build-app.mjs resolves every runtime import
 * of 'undici' to this file. undici's package index loads all of undici (fetch, WebSocket, the
 * caches, cookies, whose use of the global Headers loads the copy of undici inside Node.js, the
 * decompress interceptor): a bare process holds 70 MiB of RSS with it, 57 MiB with this file.
 * (The agent loads no undici at all: it is built --without undici, its clients on
 * createHttpPool.) This file loads only the modules of the names the libs use,
 * doing what undici 7.x's index.js does for them. Libs keep importing 'undici' (types, unit
 * tests); a name missing here fails the app build (esbuild: no matching export).
 */
import type * as Undici from 'undici';
import api from 'undici/lib/api/index.js';
import AgentImpl from 'undici/lib/dispatcher/agent.js';
import DispatcherImpl from 'undici/lib/dispatcher/dispatcher.js';
import PoolImpl from 'undici/lib/dispatcher/pool.js';
import connector from 'undici/lib/core/connect.js';
import errors from 'undici/lib/core/errors.js';
import util from 'undici/lib/core/util.js';
import globalDispatcher from 'undici/lib/global.js';

// pool.request() and the other methods of a dispatcher are this mixin of undici's index.
Object.assign(DispatcherImpl.prototype, api);

export const Pool: typeof Undici.Pool = PoolImpl;
export const Agent: typeof Undici.Agent = AgentImpl;
export const buildConnector: typeof Undici.buildConnector = connector;

interface UrlRequestOptions {
  readonly path?: unknown;
  readonly method?: string;
  readonly body?: unknown;
  readonly agent?: unknown;
  readonly dispatcher?: object;
}

/**
 * undici's request(url, options): the URL split into origin and path, sent through
 * options.dispatcher or else the global one (makeDispatcher(api.request) in its index.js).
 */
function requestUrl(url: unknown, opts?: unknown, handler?: unknown): unknown {
  if (typeof opts === 'function') {
    handler = opts;
    opts = null;
  }
  if (!url || (typeof url !== 'string' && typeof url !== 'object')) {
    throw new errors.InvalidArgumentError('invalid url');
  }
  if (opts != null && typeof opts !== 'object') throw new errors.InvalidArgumentError('invalid opts');
  let options = opts as UrlRequestOptions | null | undefined;
  let target: URL;
  if (options && options.path != null) {
    if (typeof options.path !== 'string') throw new errors.InvalidArgumentError('invalid opts.path');
    const path = options.path.startsWith('/') ? options.path : `/${options.path}`;
    target = new URL(util.parseOrigin(url).origin + path);
  } else {
    options ||= typeof url === 'object' ? (url as UrlRequestOptions) : {};
    target = util.parseURL(url);
  }
  const { agent, dispatcher = globalDispatcher.getGlobalDispatcher() } = options;
  if (agent) throw new errors.InvalidArgumentError('unsupported opts.agent. Did you mean opts.client?');
  return api.request.call(
    dispatcher,
    {
      ...options,
      origin: target.origin,
      path: target.search ? `${target.pathname}${target.search}` : target.pathname,
      method: options.method || (options.body ? 'PUT' : 'GET'),
    },
    handler,
  );
}

export const request = requestUrl as typeof Undici.request;
