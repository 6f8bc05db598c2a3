/**
 * A registry API on an in-memory store and a temporary upload directory, with a
 * controllable clock: what unit tests of the plugin (and of its users) start from.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Metrics } from '@kraken/service-kit';
import { createManualClock, type ManualClock } from '@kraken/foundation/testing';
import { createFsUploadStore } from '../uploads/fs-upload-store.js';
import type { RegistryAuthorizer } from '../auth/registry-access.js';
import type { RegistryLimits } from '../registry-api-config.js';
import { registerRegistryApi } from '../registry-api-plugin.js';
import type { ReadableRegistryStore } from '../registry-store.js';
import type { UploadStore } from '../uploads/upload-store.js';
import {
  createMemoryRegistryStore,
  readOnlyRegistryStore,
  type MemoryRegistryStore,
} from './memory-registry-store.js';

export interface TestRegistry {
  readonly app: FastifyInstance;
  /** The backing store, writable even when the registry is served read-only. */
  readonly store: MemoryRegistryStore;
  readonly uploads: UploadStore;
  readonly uploadDir: string;
  /** Wall time of the upload store (starts at 2030-01-01); `await clock.advance(ms)` moves it. */
  readonly clock: ManualClock;
  close(): Promise<void>;
}

export interface TestRegistryOptions {
  /** Serve the store through its read-only face. */
  readonly readOnly?: boolean;
  /** Serve this store instead of the memory store (which is then only a spare). */
  readonly servedStore?: ReadableRegistryStore;
  readonly limits?: Partial<RegistryLimits>;
  readonly metrics?: Metrics;
  readonly ttlSeconds?: number;
  /** Mirror mode: the store of each `?ns=` registry (see RegistryApiOptions.mirrors). */
  readonly mirrors?: (registry: string) => ReadableRegistryStore | undefined;
  /** The auth hook (see RegistryApiOptions.authorize). */
  readonly authorize?: RegistryAuthorizer;
}

export async function createTestRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const clock = createManualClock(Date.UTC(2030, 0, 1));
  const uploadDir = await mkdtemp(join(tmpdir(), 'kraken-registry-api-'));
  const store = createMemoryRegistryStore();
  const uploads = createFsUploadStore({
    dir: uploadDir,
    now: clock.now,
    ttlSeconds: options.ttlSeconds ?? 3600,
  });
  const app = Fastify({ routerOptions: { ignoreTrailingSlash: false, maxParamLength: 1024 } });
  const served = options.servedStore ?? (options.readOnly === true ? readOnlyRegistryStore(store) : store);
  await registerRegistryApi(app, {
    store: served,
    uploads,
    ...(options.limits && { limits: options.limits }),
    ...(options.metrics && { metrics: options.metrics }),
    ...(options.mirrors && { mirrors: options.mirrors }),
    ...(options.authorize && { authorize: options.authorize }),
  });
  await app.ready();
  return {
    app,
    store,
    uploads,
    uploadDir,
    clock,
    async close() {
      await app.close();
      await uploads.close();
      await rm(uploadDir, { recursive: true, force: true });
    },
  };
}
