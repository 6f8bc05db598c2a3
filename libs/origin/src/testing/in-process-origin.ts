/**
 * One origin running in this process on an ephemeral loopback port, with filesystem
 * storage under a temporary directory: the origin that tests of its clients, and of
 * components built on it, talk to over real HTTP.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttpServer, createMetrics, silentLogger } from '@kraken/service-kit';
import { createContentStore, createFilesystemBackend } from '@kraken/storage-backends';
import { createOriginRoutes } from '../api/routes.js';

export interface InProcessOrigin {
  /** The temporary directory holding the origin's storage; removed by close(). */
  readonly dir: string;
  readonly url: string;
  close(): Promise<void>;
}

export async function startInProcessOrigin(options: { dir?: string } = {}): Promise<InProcessOrigin> {
  const owned = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'kraken-origin-')));
  const logger = silentLogger();
  const backend = createFilesystemBackend({ root: join(dir, 'origin') });
  const server = createHttpServer({ logger, metrics: createMetrics('origin', { defaultMetrics: false }) });
  server.register(
    createOriginRoutes({
      store: createContentStore({ backend }),
      uploadsDir: join(dir, 'origin-uploads'),
      logger,
      metrics: createMetrics('origin_routes', { defaultMetrics: false }),
    }),
  );
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  return {
    dir,
    url,
    async close() {
      await server.close();
      await backend.close();
      if (owned) await rm(dir, { recursive: true, force: true });
    },
  };
}
