/**
 * A real fake-gcs-server (the GCS JSON API emulator) for GCS backend tests: one
 * process on a free 127.0.0.1 port keeping its objects in a temp directory (removed
 * on stop), with `createBucket` through the JSON API.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerProcess } from './server-process.js';

export interface GcsServer {
  /** API endpoint, `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  createBucket(bucket: string): Promise<void>;
  /** Stops the server and removes its data. Idempotent. */
  stop(): Promise<void>;
}

export async function startGcsServer(): Promise<GcsServer> {
  const dir = await mkdtemp(join(tmpdir(), 'kraken-gcs-'));
  try {
    const server = await startServerProcess({
      tool: 'fake-gcs-server',
      args: (port) => [
        '-scheme',
        'http',
        '-host',
        '127.0.0.1',
        '-port',
        String(port),
        '-backend',
        'filesystem',
        '-filesystem-root',
        join(dir, 'storage'),
        // Resumable upload sessions are handed out at these addresses.
        '-public-host',
        `127.0.0.1:${port}`,
        '-external-url',
        `http://127.0.0.1:${port}`,
        '-log-level',
        'error',
      ],
      readyPath: '/storage/v1/b',
    });
    let stopped: Promise<void> | undefined;
    return {
      endpoint: server.url,
      async createBucket(bucket) {
        const res = await fetch(`${server.url}/storage/v1/b?project=kraken-test`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: bucket }),
        });
        const body = await res.text();
        if (!res.ok) throw new Error(`creating bucket ${bucket}: HTTP ${res.status} ${body}`);
      },
      stop: () =>
        (stopped ??= (async () => {
          await server.stop();
          await rm(dir, { recursive: true, force: true });
        })()),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
