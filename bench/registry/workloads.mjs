// The measured workloads, identical for every target: monolithic blob upload (POST then a
// streamed PUT), concurrent blob downloads, and manifest GETs over keep-alive connections for a
// fixed time. Every loop is bounded by a count or a deadline.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Agent, interceptors, request } from 'undici';

const MB = 1e6;

// Registries may answer a blob GET with a redirect to where the bytes are (as distribution does
// with object storage); follow it as registry clients do.
const downloadAgent = (connections) =>
  new Agent({ connections }).compose(interceptors.redirect({ maxRedirections: 3 }));

async function expectStatus(res, expected, what) {
  if (res.statusCode !== expected) {
    const text = await res.body.text().catch(() => '');
    throw new Error(`${what}: HTTP ${res.statusCode} (expected ${expected}) ${text.slice(0, 300)}`);
  }
}

/** Runs `count` jobs with at most `concurrency` in flight; stops early when `signal` aborts. */
async function runPool({ count, concurrency, signal }, job) {
  let next = 0;
  const worker = async () => {
    while (next < count && !signal.aborted) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  signal.throwIfAborted();
}

async function uploadBlob({ base, repo, blob, dispatcher }) {
  const start = await request(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', dispatcher });
  await expectStatus(start, 202, `POST upload ${blob.digest}`);
  await start.body.dump();
  const location = new URL(start.headers.location, `${base}/`);
  location.searchParams.set('digest', blob.digest);
  const put = await request(location, {
    method: 'PUT',
    dispatcher,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
    body: createReadStream(blob.path, { highWaterMark: 1024 * 1024 }),
  });
  await expectStatus(put, 201, `PUT upload ${blob.digest}`);
  await put.body.dump();
}

/** Uploads every blob; returns throughput over the wall time of all uploads. */
export async function measureBlobPut({ base, repo, blobs, concurrency, signal }) {
  const dispatcher = new Agent({ connections: concurrency });
  try {
    const t0 = performance.now();
    await runPool({ count: blobs.length, concurrency, signal }, (i) =>
      uploadBlob({ base, repo, blob: blobs[i], dispatcher }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const bytes = blobs.reduce((sum, b) => sum + b.size, 0);
    return { MBps: bytes / MB / seconds, bytes, seconds, uploads: blobs.length, concurrency };
  } finally {
    await dispatcher.close();
  }
}

/** Untimed: uploads the config blob and PUTs the manifest under `tag`. */
export async function pushManifest({ base, repo, tag, config, manifest }) {
  const dispatcher = new Agent({ connections: 1 });
  try {
    await uploadBlob({ base, repo, blob: config, dispatcher });
    const res = await request(`${base}/v2/${repo}/manifests/${tag}`, {
      method: 'PUT',
      dispatcher,
      headers: { 'content-type': manifest.mediaType },
      body: manifest.body,
    });
    await expectStatus(res, 201, `PUT manifest ${tag}`);
    await res.body.dump();
  } finally {
    await dispatcher.close();
  }
}

/** Untimed: downloads each blob once and checks its digest, so timed runs read verified content. */
export async function verifyBlobs({ base, repo, blobs, signal }) {
  const dispatcher = downloadAgent(1);
  try {
    for (const blob of blobs) {
      signal.throwIfAborted();
      const res = await request(`${base}/v2/${repo}/blobs/${blob.digest}`, { dispatcher });
      await expectStatus(res, 200, `GET blob ${blob.digest}`);
      const hash = createHash('sha256');
      for await (const chunk of res.body) hash.update(chunk);
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== blob.digest) throw new Error(`GET blob ${blob.digest} returned content with digest ${got}`);
    }
  } finally {
    await dispatcher.close();
  }
}

/** Downloads every blob `rounds` times with `concurrency` GETs in flight; counts every byte. */
export async function measureBlobGet({ base, repo, blobs, rounds, concurrency, signal }) {
  const dispatcher = downloadAgent(concurrency);
  try {
    let bytes = 0;
    const t0 = performance.now();
    await runPool({ count: blobs.length * rounds, concurrency, signal }, async (i) => {
      const blob = blobs[i % blobs.length];
      const res = await request(`${base}/v2/${repo}/blobs/${blob.digest}`, { dispatcher });
      await expectStatus(res, 200, `GET blob ${blob.digest}`);
      let got = 0;
      for await (const chunk of res.body) got += chunk.length;
      if (got !== blob.size) throw new Error(`GET blob ${blob.digest}: ${got} bytes, expected ${blob.size}`);
      bytes += got;
    });
    const seconds = (performance.now() - t0) / 1000;
    return { MBps: bytes / MB / seconds, bytes, seconds, requests: blobs.length * rounds, concurrency };
  } finally {
    await dispatcher.close();
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * GETs one manifest reference with `concurrency` keep-alive connections, first for `warmupMs`
 * (not counted), then for `durationMs`. Any non-200 answer counts as an error.
 */
export async function measureManifestGet({
  base,
  repo,
  reference,
  accept,
  concurrency,
  durationMs,
  warmupMs,
  signal,
}) {
  const dispatcher = new Agent({ connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const url = `${base}/v2/${repo}/manifests/${reference}`;
  const headers = { accept };
  // A hard cap beside the deadline, so that a target answering errors instantly cannot spin forever.
  const maxRequests = 10_000_000;
  const phase = async (ms, latencies) => {
    let ok = 0;
    let errors = 0;
    let firstError = null;
    const deadline = performance.now() + ms;
    const worker = async () => {
      while (performance.now() < deadline && ok + errors < maxRequests && !signal.aborted) {
        const t = performance.now();
        try {
          const res = await request(url, { dispatcher, headers });
          await res.body.dump();
          if (res.statusCode === 200) {
            ok++;
            latencies?.push(performance.now() - t);
          } else {
            errors++;
            firstError ??= `HTTP ${res.statusCode}`;
          }
        } catch (err) {
          errors++;
          firstError ??= err.message;
        }
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    signal.throwIfAborted();
    return { ok, errors, firstError, seconds: (performance.now() - t0) / 1000 };
  };
  try {
    await phase(warmupMs, null);
    const latencies = [];
    const { ok, errors, firstError, seconds } = await phase(durationMs, latencies);
    latencies.sort((a, b) => a - b);
    const round = (x) => (x === null ? null : Math.round(x * 1000) / 1000);
    return {
      reqPerSec: ok / seconds,
      requests: ok,
      errors,
      ...(firstError ? { firstError } : {}),
      seconds,
      concurrency,
      p50Ms: round(percentile(latencies, 50)),
      p99Ms: round(percentile(latencies, 99)),
    };
  } finally {
    await dispatcher.close();
  }
}
