// The clients of a run: one GET per agent, all leaving at one instant, each body hashed as it
// streams (a wrong digest or size fails the pull). Plain node:http, reading the socket's chunks
// as they come, so the client costs as little as a client can; its CPU is the bench's own and is
// not counted in any role. Times are seconds after the common start.
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** How often each pull's progress is sampled for the plot (ms). */
const SAMPLE_MS = 100;

function pullOnce({ url, startedAt, digest, size, timeoutMs }) {
  return new Promise((resolve) => {
    const since = () => (performance.now() - startedAt) / 1000;
    const hash = createHash('sha256');
    const result = { headersSeconds: undefined, firstByteSeconds: undefined, seconds: undefined, bytes: 0 };
    const progress = [[0, 0]];
    let lastSample = 0;
    const fail = (error) => {
      clearTimeout(timer);
      resolve({ ...result, progress, error });
    };
    const req = request(url, { agent: false }, (res) => {
      result.headersSeconds = since();
      if (res.statusCode !== 200) {
        res.resume();
        fail(`HTTP ${res.statusCode}`);
        return;
      }
      res.on('data', (chunk) => {
        if (result.bytes === 0) result.firstByteSeconds = since();
        hash.update(chunk);
        result.bytes += chunk.byteLength;
        const now = performance.now();
        if (now - lastSample >= SAMPLE_MS) {
          lastSample = now;
          progress.push([since(), result.bytes]);
        }
      });
      res.on('error', (err) => fail(err.message));
      res.on('end', () => {
        clearTimeout(timer);
        result.seconds = since();
        progress.push([result.seconds, result.bytes]);
        const actual = `sha256:${hash.digest('hex')}`;
        if (result.bytes !== size) fail(`received ${result.bytes} bytes, expected ${size}`);
        else if (actual !== digest) fail(`body hashes to ${actual}, expected ${digest}`);
        else resolve({ ...result, progress });
      });
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`no complete body within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on('error', (err) => fail(err.message));
    req.end();
  });
}

/**
 * GETs every URL of `urls` at one instant, `leadMs` from now. Resolves with the start instant
 * (performance.now() and process.hrtime in µs, which is the clock of V8's CPU profiles) and one
 * result per URL: { headersSeconds, firstByteSeconds, seconds, bytes, progress: [[s, bytes]], error? }.
 * `onStart` runs right at the start instant (the CPU snapshot), before any request leaves.
 */
export async function pullAll({ urls, digest, size, timeoutMs, leadMs = 500, onStart }) {
  await sleep(leadMs);
  onStart?.();
  const startedAt = performance.now();
  const startedAtMicros = Number(process.hrtime.bigint() / 1000n);
  const pulls = await Promise.all(urls.map((url) => pullOnce({ url, startedAt, digest, size, timeoutMs })));
  return { startedAt, startedAtMicros, pulls };
}
