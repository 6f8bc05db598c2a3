/**
 * An origin's /v1/ routes on a loopback port with its own client, filesystem storage in
 * a temporary directory and a hand-moved clock: the harness of the origin API tests.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { createHttpServer, createMetrics, silentLogger, type Metrics } from '@kraken/service-kit';
import {
  createContentStore,
  createFilesystemBackend,
  FILESYSTEM_TEMP_DIR,
  type ContentStore,
  type StorageBackend,
} from '@kraken/storage-backends';
import type { OriginClient, OriginUploadClient } from '../client/client-types.js';
import { createOriginClient } from '../client/origin-client.js';
import { originLimitsSchema, type OriginLimits } from '../api/limits.js';
import { createOriginRoutes } from '../api/routes.js';

export interface Harness {
  url: string;
  client: OriginClient & OriginUploadClient;
  backend: StorageBackend;
  store: ContentStore;
  metrics: Metrics;
  uploadsDir: string;
  /** Resolves when the routes start their next store write, with that write's settled outcome. */
  nextWrite(): Promise<{ settled: Promise<unknown> }>;
  clock: { now: number };
  close(): Promise<void>;
}

export async function startOrigin(limits: Partial<OriginLimits> = {}, ready = true): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'kraken-origin-api-'));
  const backend = createFilesystemBackend({ root: join(dir, 'store') });
  const real = createContentStore({ backend });
  const waiting: ((write: { settled: Promise<unknown> }) => void)[] = [];
  // Observe the routes' writes, so tests can wait for the server side of an abort.
  const store: ContentStore = {
    ...real,
    write: (...args) => {
      const result = real.write(...args);
      const settled = result.then(
        () => 'stored',
        (err: unknown) => err,
      );
      for (const resolve of waiting.splice(0)) resolve({ settled });
      return result;
    },
  };
  const nextWrite = () => new Promise<{ settled: Promise<unknown> }>((resolve) => waiting.push(resolve));
  const metrics = createMetrics('origin', { defaultMetrics: false });
  const logger = silentLogger();
  const clock = { now: 1_000_000 };
  const uploadsDir = join(dir, 'uploads');
  const app: FastifyInstance = createHttpServer({
    logger,
    metrics,
    readinessChecks: [
      {
        name: 'storage',
        check: async () => {
          if (!ready) throw new Error('disk gone');
        },
      },
    ],
  });
  await app.register(
    createOriginRoutes({
      store,
      uploadsDir,
      limits: originLimitsSchema.parse(limits),
      logger,
      metrics,
      now: () => clock.now,
    }),
  );
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const client = createOriginClient({ url });
  return {
    url,
    client,
    backend,
    store: real,
    metrics,
    uploadsDir,
    nextWrite,
    clock,
    async close() {
      await client.close();
      await app.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const body = (s: string | Buffer) => Readable.from([Buffer.from(s)]);

/** Names of whatever the store holds: objects in the backend and files left in its temp dir. */
export async function storedNames(h: Harness): Promise<{ keys: string[]; temp: string[] }> {
  const temp = await readdir(join(h.store.name.slice('fs:'.length), FILESYSTEM_TEMP_DIR)).catch(() => []);
  return { keys: (await h.backend.list()).keys, temp };
}

/** A raw request to the origin, for what the client would never send. */
export async function raw(
  h: Harness,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
) {
  const response = await request(`${h.url}${path}`, {
    method: method as 'GET',
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    text,
    json: () => JSON.parse(text) as unknown,
  };
}
