/**
 * The fastify plugin: one wildcard route under `/v2/`, dispatched by endpoint and
 * method to the handlers after the auth hook has allowed it, with the plugin's own body
 * handling (request bodies are never buffered by fastify), OCI error responses and the
 * API version header.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { silentLogger, type Logger, type Metrics } from '@kraken/service-kit';
import { requiredAccess, type RegistryAuthorizer } from './auth/registry-access.js';
import { deleteBlob, getBlob } from './routes/blob-routes.js';
import { getBase, listReferrers, listRepositories, listTags } from './routes/discovery-routes.js';
import { mapError } from './error-mapper.js';
import { EndpointNotFoundError, RegistryOptionsError, UnsupportedError } from './errors.js';
import { deleteManifest, getManifest, putManifest } from './routes/manifest-routes.js';
import { registryLimitsSchema, type RegistryLimits } from './registry-api-config.js';
import { isWritableRegistryStore, type RegistryContext } from './registry-context.js';
import { createRegistryMetrics } from './registry-metrics.js';
import { parseRegistryPath, type RegistryEndpoint } from './request/registry-path.js';
import type { ReadableRegistryStore, RegistryStore } from './registry-store.js';
import { isRegistryHost } from '@kraken/oci-content';
import { NameInvalidError, NameUnknownError } from './errors.js';
import {
  cancelUpload,
  completeUpload,
  getUploadStatus,
  patchUpload,
  startUpload,
} from './routes/upload-routes.js';
import type { UploadStore } from './uploads/upload-store.js';

export interface RegistryApiOptions {
  /** A ReadableRegistryStore makes the registry read-only (pushes and deletes answer 405 UNSUPPORTED). */
  readonly store: RegistryStore;
  /** Upload sessions; required when the store is writable. Swept from `onReady` until `onClose`. */
  readonly uploads?: UploadStore;
  readonly limits?: Partial<RegistryLimits>;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /**
   * Mirror mode, as containerd uses mirrors: a request carrying `?ns=<registry>` is for
   * that registry's content, answered (read-only) by the store this returns. Undefined
   * answers 404 NAME_UNKNOWN at once, so the client moves on to its next host. Without
   * this option every `ns` gets that answer.
   */
  readonly mirrors?: (registry: string) => ReadableRegistryStore | undefined;
  /**
   * Runs before every endpoint with the access the request needs (`requiredAccess`);
   * throws UnauthorizedError (401 with its challenge) or DeniedError (403) to refuse.
   * `createRegistryAuth(config).authorize` is one. Without it every request is allowed.
   */
  readonly authorize?: RegistryAuthorizer;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Headers a handler may have set about content it then failed to send. */
const CONTENT_HEADERS = [
  'content-length',
  'docker-content-digest',
  'etag',
  'cache-control',
  'accept-ranges',
  'oci-subject',
  'oci-tag',
  'oci-filters-applied',
  'link',
  'warning',
];

/** Register with `app.register(registryApi, options)`; routes live at `/v2/`, whatever the prefix. */
export const registryApi: FastifyPluginAsync<RegistryApiOptions> = async (app, options) => {
  const ctx = createContext(options);
  const endpoints = new WeakMap<FastifyRequest, RegistryEndpoint>();

  // Bodies are streams handed to the handlers untouched: blobs may be many GB, and a
  // manifest is read with its own limit.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  const uploads = ctx.writable?.uploads;
  if (uploads !== undefined) {
    // Expired sessions are swept while the server runs; sessions on disk outlive it.
    app.addHook('onReady', async () => uploads.start());
    app.addHook('onClose', async () => uploads.close());
  }

  app.addHook('onRequest', async (_request, reply) => {
    reply.header('docker-distribution-api-version', 'registry/2.0');
  });
  app.addHook('onResponse', async (request, reply) => {
    ctx.metrics.request(operationOf(request, endpoints.get(request)), reply.statusCode);
  });

  app.setErrorHandler(async (err, request, reply) => {
    const where = { method: request.method, url: request.url };
    if (reply.raw.destroyed || request.raw.socket?.destroyed === true) {
      // The client hung up (e.g. mid-upload); there is nobody to answer and nothing wrong here.
      ctx.logger.debug({ err, ...where }, 'client disconnected');
      return reply;
    }
    const response = mapError(err, endpoints.get(request)?.kind);
    if (response.statusCode >= 500) ctx.logger.error({ err, ...where }, 'registry request failed');
    else ctx.logger.debug({ err, ...where }, 'registry request rejected');
    if (reply.sent || reply.raw.headersSent) return reply;
    for (const name of CONTENT_HEADERS) reply.removeHeader(name);
    // A body still in flight would otherwise be read to its end (possibly gigabytes)
    // just to keep the connection alive.
    if (!request.raw.complete) reply.header('connection', 'close');
    return reply
      .code(response.statusCode)
      .headers(response.headers)
      .header('content-type', 'application/json')
      .send(JSON.stringify(response.body));
  });

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const endpoint = parseRegistryPath(request.raw.url ?? '/');
    endpoints.set(request, endpoint);
    await ctx.authorize?.(request, requiredAccess(endpoint, request.method));
    await dispatch(mirrorContext(ctx, options, request, endpoint), request, reply, endpoint);
    return reply;
  };
  app.route({ method: [...METHODS], url: '/v2', exposeHeadRoute: false, handler });
  app.route({ method: [...METHODS], url: '/v2/*', exposeHeadRoute: false, handler });
};

/** Registers the plugin on `app` (encapsulated: its body parsing does not leak out). */
export async function registerRegistryApi(app: FastifyInstance, options: RegistryApiOptions): Promise<void> {
  await app.register(registryApi, options);
}

function createContext(options: RegistryApiOptions): RegistryContext {
  const { store, uploads } = options;
  const writable = isWritableRegistryStore(store) ? store : undefined;
  if (writable !== undefined && uploads === undefined) {
    throw new RegistryOptionsError('a writable store needs an upload store (options.uploads)');
  }
  return {
    store,
    writable: writable !== undefined && uploads !== undefined ? { store: writable, uploads } : undefined,
    limits: registryLimitsSchema.parse(options.limits ?? {}),
    metrics: createRegistryMetrics(options.metrics),
    logger: options.logger ?? silentLogger(),
    authorize: options.authorize,
  };
}

/** The context of a request: the mirrored registry's (read-only) when it carries `?ns=`. */
function mirrorContext(
  ctx: RegistryContext,
  options: RegistryApiOptions,
  request: FastifyRequest,
  endpoint: RegistryEndpoint,
): RegistryContext {
  const ns = (request.query as Record<string, unknown> | undefined)?.ns;
  if (ns === undefined || endpoint.kind === 'base') return ctx;
  if (typeof ns !== 'string') throw new NameInvalidError('query parameter "ns" must appear once');
  if (!isRegistryHost(ns))
    throw new NameInvalidError(
      `ns "${ns.replace(/[^\x20-\x7e]/g, '?').slice(0, 80)}" is not a registry host name`,
    );
  const store = options.mirrors?.(ns);
  if (store === undefined) throw new NameUnknownError(`${ns} (not mirrored here)`);
  return { ...ctx, store, writable: undefined };
}

async function dispatch(
  ctx: RegistryContext,
  request: FastifyRequest,
  reply: FastifyReply,
  endpoint: RegistryEndpoint,
): Promise<void> {
  const method = request.method;
  const read = method === 'GET' || method === 'HEAD';
  switch (endpoint.kind) {
    case 'base':
      if (read) return getBase(ctx, request, reply, endpoint);
      break;
    case 'catalog':
      if (read) return listRepositories(ctx, request, reply, endpoint);
      break;
    case 'tags':
      if (read) return listTags(ctx, request, reply, endpoint);
      break;
    case 'referrers':
      if (read) return listReferrers(ctx, request, reply, endpoint);
      break;
    case 'manifest':
      if (read) return getManifest(ctx, request, reply, endpoint);
      if (method === 'PUT') return putManifest(ctx, request, reply, endpoint);
      if (method === 'DELETE') return deleteManifest(ctx, request, reply, endpoint);
      break;
    case 'blob':
      if (read) return getBlob(ctx, request, reply, endpoint);
      if (method === 'DELETE') return deleteBlob(ctx, request, reply, endpoint);
      break;
    case 'uploads':
      if (method === 'POST') return startUpload(ctx, request, reply, endpoint);
      break;
    case 'upload':
      if (method === 'GET') return getUploadStatus(ctx, request, reply, endpoint);
      if (method === 'PATCH') return patchUpload(ctx, request, reply, endpoint);
      if (method === 'PUT') return completeUpload(ctx, request, reply, endpoint);
      if (method === 'DELETE') return cancelUpload(ctx, request, reply, endpoint);
      break;
    case 'unknown':
      throw new EndpointNotFoundError(`no registry endpoint at ${request.url.split('?')[0]?.slice(0, 200)}`);
  }
  throw new UnsupportedError(`${method} is not supported on this endpoint`);
}

/** Metric label: endpoint and method, e.g. `manifest_put`, `upload_patch`. */
function operationOf(request: FastifyRequest, endpoint: RegistryEndpoint | undefined): string {
  return endpoint === undefined ? 'invalid' : `${endpoint.kind}_${request.method.toLowerCase()}`;
}
