// The tracker under test: the built app (`node apps/tracker/dist/main.js --config <file>`) as a
// real process, pinned to one core with taskset when it is there. Its config sets only what
// the bench needs (listen address, the announce interval and peer TTL the fleet uses, an origin
// ring member nobody listens on); everything else, logging included, keeps the app's defaults.
// With `cpuProfile` node writes a .cpuprofile on exit; with `heapSnapshots` SIGUSR2 writes a heap
// snapshot (both into `dir`).
import { execFileSync } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startProcess } from '../registry/child-processes.mjs';
import { freePort, waitHttpOk } from '../registry/net-helpers.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;

/** True when taskset can pin processes to cores here. */
export function canPin() {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `command args` prefixed with taskset to run on `core`, when pinning. */
export function pinned(core, command, args) {
  return core === undefined
    ? { command, args }
    : { command: 'taskset', args: ['-c', String(core), command, ...args] };
}

/** Moves every thread of a running process (the bench itself) onto `core`. */
export function pinSelf(core) {
  execFileSync('taskset', ['-a', '-p', '-c', String(core), String(process.pid)], { stdio: 'ignore' });
}

/** `main`: the app's entry point, apps/tracker/dist/main.js unless another build is compared. */
export async function startTracker({ dir, core, tracker, logLevel, cpuProfile, heapSnapshots, main }) {
  const port = await freePort();
  // Origins seed on request; the fleet's origins announce every blob themselves, so the tracker
  // never needs to ask one, and this member is only there because the ring needs one.
  const unusedOriginPort = await freePort();
  const config = {
    listen: { host: '127.0.0.1', port },
    tracker,
    origins: { nodes: [`127.0.0.1:${unusedOriginPort}`], replicas: 1 },
    ...(logLevel === undefined ? {} : { logging: { level: logLevel } }),
  };
  const configFile = join(dir, 'tracker.yaml');
  // JSON is YAML.
  await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const nodeFlags = [
    ...(cpuProfile ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []),
    ...(heapSnapshots ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`] : []),
  ];
  const { command, args } = pinned(core, process.execPath, [
    ...nodeFlags,
    main ?? join(ROOT, 'apps/tracker/dist/main.js'),
    '--config',
    configFile,
  ]);
  const proc = startProcess({ name: 'tracker', command, args, logFile: join(dir, 'tracker.log'), cwd: dir });
  const url = `http://127.0.0.1:${port}`;
  await waitHttpOk({ url: `${url}/health`, proc });
  return {
    url,
    pid: proc.child.pid,
    config,
    proc,
    /** Writes a heap snapshot and resolves with its path. */
    async heapSnapshot() {
      const before = new Set(await readdir(dir));
      proc.child.kill('SIGUSR2');
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        const fresh = (await readdir(dir)).filter((f) => f.endsWith('.heapsnapshot') && !before.has(f));
        // The file appears at once and grows; the tracker answers /health again when it is done.
        if (
          fresh.length > 0 &&
          (await fetch(`${url}/health`).then(
            (r) => r.ok,
            () => false,
          ))
        ) {
          return join(dir, fresh[0]);
        }
      }
    },
    stop: () => proc.stop(30_000),
  };
}

/**
 * The tracker's own figures from /metrics: swarm sizes, announces counted, V8 heap, and the
 * latency histogram of `route` (the announce route the generator drives).
 */
export async function scrapeTracker(url, route = '/v1/announce') {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name) => {
    const match = new RegExp(`^kraken_tracker_${name} (\\S+)$`, 'm').exec(text);
    return match === null ? undefined : Number(match[1]);
  };
  return {
    swarms: value('swarms'),
    swarmPeers: value('swarm_peers'),
    largestSwarm: value('swarm_peers_max'),
    announcesOk: value('announces_total\\{result="ok"\\}'),
    heapUsedBytes: value('nodejs_heap_size_used_bytes'),
    heapTotalBytes: value('nodejs_heap_size_total_bytes'),
    externalBytes: value('nodejs_external_memory_bytes'),
    announceBuckets: announceBuckets(text, route),
  };
}

/**
 * The tracker's own latency histogram of answered announce requests (service-kit's
 * `http_request_duration_seconds`, `route`, status 200): cumulative counts by upper bound in
 * seconds. It times from the parsed request to the reply, so it leaves out the time a request
 * waited before the tracker read it.
 */
function announceBuckets(text, route) {
  const buckets = {};
  const line = /^kraken_tracker_http_request_duration_seconds_bucket\{([^}]*)\} (\S+)$/gm;
  for (const [, labels, count] of text.matchAll(line)) {
    if (!labels.includes(`route="${route}"`) || !labels.includes('status="200"')) continue;
    const le = /le="([^"]+)"/.exec(labels)?.[1];
    if (le !== undefined) buckets[le] = (buckets[le] ?? 0) + Number(count);
  }
  return buckets;
}
