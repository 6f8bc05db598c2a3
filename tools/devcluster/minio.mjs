// MinIO for `npm run devcluster -- --storage s3` and the storage e2e tests: the binary that
// `bash tools/install/go-tools.sh minio` builds into .cache/bin, on one loopback port with
// its data under the cluster directory, and the bucket the components use. It can be
// stopped and started again on the same port and data, to play a backend outage.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { access, constants, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Development credentials; MinIO listens on loopback only. */
export const MINIO_CREDENTIALS = { accessKeyId: 'kraken-dev', secretAccessKey: 'kraken-dev-secret' };
export const MINIO_BUCKET = 'kraken';

/** The `storage` config block of a component keeping its objects under `prefix` in the bucket. */
export function minioStorageConfig(url, prefix) {
  return {
    type: 's3',
    bucket: MINIO_BUCKET,
    prefix,
    endpoint: url,
    forcePathStyle: true,
    credentials: { ...MINIO_CREDENTIALS },
  };
}

/**
 * Starts MinIO on 127.0.0.1:`port`, data in `<dir>/data`, log appended to `logFile`, and
 * makes sure the bucket exists. Returns { name, url, logFile, exited, stop(signal), start() }.
 */
export async function startMinio({ repoRoot, dir, port, logFile }) {
  const binary = join(repoRoot, '.cache', 'bin', 'minio');
  try {
    await access(binary, constants.X_OK);
  } catch {
    throw new Error(`minio is not installed at ${binary}: run \`bash tools/install/go-tools.sh minio\``);
  }
  await mkdir(join(dir, 'data'), { recursive: true });
  const url = `http://127.0.0.1:${port}`;
  let child;
  let exited = Promise.resolve({ code: 0, signal: null });

  const start = async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) return;
    const log = createWriteStream(logFile, { flags: 'a' });
    child = spawn(
      binary,
      [
        'server',
        join(dir, 'data'),
        '--address',
        `127.0.0.1:${port}`,
        '--certs-dir',
        join(dir, 'certs'),
        '--quiet',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          MINIO_ROOT_USER: MINIO_CREDENTIALS.accessKeyId,
          MINIO_ROOT_PASSWORD: MINIO_CREDENTIALS.secretAccessKey,
          MINIO_BROWSER: 'off',
          MINIO_UPDATE: 'off',
          MINIO_CI_CD: '1',
          // MinIO's own config and caches, never the user's home directory.
          HOME: dir,
        },
      },
    );
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    const current = child;
    exited = new Promise((resolve) => current.once('exit', (code, signal) => resolve({ code, signal })));
    exited.then(() => log.end());
    await waitServing(current, `${url}/minio/health/ready`, logFile);
  };

  const stop = async (signal = 'SIGTERM') => {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill(signal);
    return exited;
  };

  await start();
  try {
    await ensureBucket(url);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    name: 'minio',
    app: 'minio',
    url,
    logFile,
    get exited() {
      return exited;
    },
    stop,
    start,
  };
}

async function waitServing(child, readyUrl, logFile, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`minio exited with code ${child.exitCode}; see ${logFile}`);
    try {
      const res = await fetch(readyUrl, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`minio not ready after ${timeoutMs} ms; see ${logFile}`);
}

async function ensureBucket(url) {
  const { S3Client, CreateBucketCommand, HeadBucketCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { ...MINIO_CREDENTIALS },
  });
  try {
    try {
      await client.send(new HeadBucketCommand({ Bucket: MINIO_BUCKET }));
    } catch {
      await client.send(new CreateBucketCommand({ Bucket: MINIO_BUCKET }));
    }
  } finally {
    client.destroy();
  }
}
