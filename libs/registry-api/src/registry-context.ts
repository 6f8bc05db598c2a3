/**
 * What every endpoint handler works with: the store (and its writable face, when it
 * has one), the upload sessions, the limits, metrics, logger and the auth hook.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '@kraken/service-kit';
import type { RegistryAuthorizer } from './auth/registry-access.js';
import { UnsupportedError } from './errors.js';
import type { RegistryLimits } from './registry-api-config.js';
import type { RegistryMetrics } from './registry-metrics.js';
import type { ReadableRegistryStore, RegistryStore, WritableRegistryStore } from './registry-store.js';
import type { UploadStore } from './uploads/upload-store.js';

export interface RegistryContext {
  readonly store: ReadableRegistryStore;
  /** Set when the store accepts pushes; undefined makes the registry read-only. */
  readonly writable: { readonly store: WritableRegistryStore; readonly uploads: UploadStore } | undefined;
  readonly limits: RegistryLimits;
  readonly metrics: RegistryMetrics;
  readonly logger: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  /** The auth hook; undefined lets every request through. */
  readonly authorize: RegistryAuthorizer | undefined;
}

export type EndpointHandler<E> = (
  ctx: RegistryContext,
  request: FastifyRequest,
  reply: FastifyReply,
  endpoint: E,
) => Promise<void>;

export function isWritableRegistryStore(store: RegistryStore): store is WritableRegistryStore {
  const candidate = store as Partial<WritableRegistryStore>;
  return (
    typeof candidate.putBlob === 'function' &&
    typeof candidate.mountBlob === 'function' &&
    typeof candidate.putManifest === 'function'
  );
}

export function requireWritable(ctx: RegistryContext): NonNullable<RegistryContext['writable']> {
  if (ctx.writable === undefined) throw new UnsupportedError('this registry is read-only');
  return ctx.writable;
}
