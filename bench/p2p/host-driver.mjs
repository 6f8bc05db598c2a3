// The benchmark's hands inside one host's network namespace, started as
// `ip netns exec <ns> node bench/p2p/host-driver.mjs`. The bench itself stays in the root
// namespace, which has no route to the test network, so everything that talks to the network
// (readiness polls, the blob upload, the timed pulls, the shaping check) happens here.
//
// Protocol: one JSON request per stdin line, `{ id, op, ...args }`; one JSON answer per stdout
// line, `{ id, ok: true, result }` or `{ id, ok: false, error, detail? }`. The driver exits when
// stdin closes, so it cannot outlive the bench (and teardown kills it anyway).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const servers = new Set();

/** One HTTP request; resolves with the response once its headers are in. */
function httpRequest(url, { method = 'GET', headers = {}, body, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, signal: AbortSignal.timeout(Math.ceil(timeoutMs)) }, resolve);
    req.once('error', reject);
    if (body === undefined) req.end();
    else pipeline(body, req).catch(reject);
  });
}

async function readAll(res) {
  const chunks = [];
  for await (const chunk of res) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function waitHttp({ url, timeoutMs = 30_000 }) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await httpRequest(url, { timeoutMs: 2000 });
      const text = await readAll(res);
      if (res.statusCode === 200) return { status: 200 };
      last = `HTTP ${res.statusCode}: ${text.slice(0, 200)}`;
    } catch (err) {
      last = err.message;
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})`);
}

async function getText({ url, timeoutMs, method = 'GET' }) {
  const res = await httpRequest(url, { method, timeoutMs });
  const text = await readAll(res);
  return { status: res.statusCode, text };
}

async function upload({ url, file, size, timeoutMs = 600_000 }) {
  const res = await httpRequest(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    body: createReadStream(file),
    timeoutMs,
  });
  const text = await readAll(res);
  if (res.statusCode !== 201 && res.statusCode !== 200 && res.statusCode !== 204)
    throw new Error(`PUT ${url}: HTTP ${res.statusCode} ${text.slice(0, 300)}`);
  return { status: res.statusCode };
}

/** A pull that failed on its own terms: a bad status, a wrong digest or size. */
class PullError extends Error {}

const megabytes = (bytes) => (bytes / 1e6).toFixed(1);

/**
 * The timed pull: waits for the shared start instant, GETs the blob and hashes it as it streams,
 * so a wrong byte shows up as a failed pull rather than a fast one. Times are ms after `startAt`
 * (a Date.now() instant, the clock every process shares; the intervals use the monotonic clock).
 * `headersMs` is when the response headers came, `endMs` the last byte. A failed pull says what
 * failed, when, and how far it got, in its message and in `detail` (see pullFailure).
 */
function pull(args) {
  const progress = { lagMs: undefined, headersMs: undefined, bytes: 0, socketError: undefined };
  return timedFetch(args, progress).catch((err) => {
    throw pullFailure(args, progress, err);
  });
}

/**
 * The error of a failed pull. node:http reports a connection that closed mid-body as `aborted`
 * whatever closed it; the socket's own error (a reset, a timeout), when there was one, says more.
 */
function pullFailure({ url, size, startAt, timeoutMs }, progress, err) {
  const atMs = Date.now() - startAt;
  const cause = progress.socketError ?? err;
  let what;
  if (err instanceof PullError) what = err.message;
  else if (cause.name === 'AbortError' || cause.name === 'TimeoutError')
    what = `not complete after ${Math.round(timeoutMs / 1000)} s`;
  else if (progress.headersMs === undefined) what = `failed before the response headers (${cause.message})`;
  else what = `connection closed before the body's end (${cause.message})`;
  const headers =
    progress.headersMs === undefined
      ? ''
      : `, response headers at ${(progress.headersMs / 1000).toFixed(1)} s`;
  const error = new Error(
    `GET ${url}: ${what}, ${(atMs / 1000).toFixed(1)} s after the start with ${megabytes(progress.bytes)} ` +
      `of ${megabytes(size)} MB received${headers}`,
  );
  error.detail = {
    atMs,
    bytes: progress.bytes,
    ...(progress.headersMs === undefined ? {} : { headersMs: Math.round(progress.headersMs) }),
    ...(progress.lagMs === undefined ? {} : { lagMs: progress.lagMs }),
    ...(cause.code === undefined ? {} : { code: cause.code }),
  };
  return error;
}

async function timedFetch({ url, startAt, digest, size, timeoutMs }, progress) {
  const wait = Math.round(startAt - Date.now());
  if (wait > 0) await sleep(wait);
  const lagMs = Date.now() - startAt;
  progress.lagMs = lagMs;
  const t0 = performance.now();
  const since = () => lagMs + (performance.now() - t0);
  const res = await httpRequest(url, { timeoutMs });
  const headersMs = since();
  progress.headersMs = headersMs;
  // Errors of the socket after the headers go to the request, not to the body being read.
  res.req.on('error', (err) => (progress.socketError ??= err));
  if (res.statusCode !== 200) {
    const text = await readAll(res);
    throw new PullError(`HTTP ${res.statusCode} ${text.slice(0, 300)}`);
  }
  const hash = createHash('sha256');
  for await (const chunk of res) {
    hash.update(chunk);
    progress.bytes += chunk.length;
  }
  const { bytes } = progress;
  const endMs = since();
  const got = `sha256:${hash.digest('hex')}`;
  if (bytes !== size || got !== digest)
    throw new PullError(`got ${bytes} bytes with digest ${got}, want ${size} bytes ${digest}`);
  return { lagMs, headersMs, endMs, bytes };
}

/** Serves `bytes` zero bytes to the first connection on a free port, then closes; for the shaping check. */
async function serveBytes({ bytes }) {
  const chunk = Buffer.alloc(64 * 1024);
  const server = createServer((socket) => {
    server.close();
    servers.delete(server);
    socket.on('error', () => {});
    let left = bytes;
    const write = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          socket.once('drain', write);
          return;
        }
      }
      socket.end();
    };
    write();
  });
  servers.add(server);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '0.0.0.0', resolve);
  });
  return { port: server.address().port };
}

/**
 * Reads everything a serveBytes server sends; the time runs from connect to the last byte. The
 * socket sends TCP keep-alive probes after 1 s of silence, as node's HTTP agent does, so a
 * connection the sender's kernel dropped is reset at once rather than waited on.
 */
function sinkBytes({ host, port, timeoutMs = 120_000 }) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, keepAlive: true, keepAliveInitialDelay: 1000 });
    const timer = setTimeout(() => socket.destroy(new Error(`no end after ${timeoutMs} ms`)), timeoutMs);
    let connectedAt = 0;
    let bytes = 0;
    socket.once('connect', () => (connectedAt = performance.now()));
    socket.on('data', (chunk) => (bytes += chunk.length));
    socket.once('end', () => {
      clearTimeout(timer);
      resolve({ bytes, seconds: (performance.now() - connectedAt) / 1000 });
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

const OPS = { waitHttp, getText, upload, pull, serveBytes, sinkBytes };

function answer(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    answer({ id: null, ok: false, error: `not JSON: ${line.slice(0, 100)}` });
    return;
  }
  const { id, op, ...args } = message;
  const fn = OPS[op];
  if (fn === undefined) {
    answer({ id, ok: false, error: `unknown op ${op}` });
    return;
  }
  Promise.resolve()
    .then(() => fn(args))
    .then(
      (result) => answer({ id, ok: true, result }),
      (err) =>
        answer({
          id,
          ok: false,
          error: err.message,
          ...(err.detail === undefined ? {} : { detail: err.detail }),
        }),
    );
});
lines.once('close', () => {
  for (const server of servers) server.close();
  process.exit(0);
});
