/**
 * A real MinIO server for S3 backend tests: one process on a free 127.0.0.1 port with
 * its data in a temp directory (removed on stop), root credentials known to the test,
 * and `createBucket` through the S3 API itself.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startServerProcess } from './server-process.js';

export interface MinioServer {
  /** S3 endpoint, `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  createBucket(bucket: string): Promise<void>;
  /** Stops the server and removes its data. Idempotent. */
  stop(): Promise<void>;
}

const ROOT_USER = 'kraken-test';
const ROOT_PASSWORD = 'kraken-test-secret';

export async function startMinio(): Promise<MinioServer> {
  const dir = await mkdtemp(join(tmpdir(), 'kraken-minio-'));
  try {
    const server = await startServerProcess({
      tool: 'minio',
      args: (port) => [
        'server',
        join(dir, 'data'),
        '--address',
        `127.0.0.1:${port}`,
        '--certs-dir',
        join(dir, 'certs'),
        '--quiet',
      ],
      env: {
        MINIO_ROOT_USER: ROOT_USER,
        MINIO_ROOT_PASSWORD: ROOT_PASSWORD,
        MINIO_BROWSER: 'off',
        MINIO_UPDATE: 'off',
        MINIO_CI_CD: '1',
        // The server's own config and caches, never the user's home directory.
        HOME: dir,
      },
      readyPath: '/minio/health/ready',
    });
    const credentials = { accessKeyId: ROOT_USER, secretAccessKey: ROOT_PASSWORD };
    let stopped: Promise<void> | undefined;
    return {
      endpoint: server.url,
      credentials,
      async createBucket(bucket) {
        const client = new S3Client({
          endpoint: server.url,
          region: 'us-east-1',
          forcePathStyle: true,
          credentials: { ...credentials },
        });
        try {
          await client.send(new CreateBucketCommand({ Bucket: bucket }));
        } finally {
          client.destroy();
        }
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
