// The apps under test, each started as `ip netns exec <host ns> node apps/<app>/dist/main.js
// --config <yaml>` on its own host of the test network: the tracker, the origin and the agents.
// Every host has its own port space, so each app keeps its default ports.
//
// As in bench/registry, the config sets only addresses, directories, ring members, the P2P
// cluster id and the log level; every other key keeps the app's default. A key an app rejects
// shows up as its zod error in the log tail printed when the app does not come up. The file is
// JSON, which is YAML too, because ring members are lists.
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startProcess } from '../registry/child-processes.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
export const PORTS = { tracker: 15003, origin: 15002, originP2p: 15001, agent: 16000, agentP2p: 16001 };
const CLUSTER_ID = 'bench-p2p';
const logging = { level: 'warn' };
// Agents resolve no tags here (blob pulls only), so their build-index is the discard port:
// readiness reports it unreachable, which is why agents are awaited on /health instead.
const NO_BUILD_INDEX = '127.0.0.1:9';

/** A ring of one member (the build-index here). */
const ringOf = (address) => ({ nodes: [address], replicas: 1 });

/** At most this many origins hold each blob (the origin ring's `replicas`). */
export const MAX_ORIGIN_REPLICAS = 3;

/**
 * The ring entries every app lists, in the same order and spelling everywhere: the rendezvous
 * order of a key depends on each member's id, `<ip>:<port>`, which bench-runs.mjs recomputes.
 */
export const ringMembers = {
  origins: (originHosts) => originHosts.map((h) => `${h.ip}:${PORTS.origin}`),
  trackers: (trackerHosts) => trackerHosts.map((h) => `${h.ip}:${PORTS.tracker}`),
};
// Every origin replicates a blob to the others of its owners: with up to three origins, each
// holds every blob, so killing one leaves the blob on the rest.
const originRing = (originHosts) => ({
  nodes: ringMembers.origins(originHosts),
  replicas: Math.min(originHosts.length, MAX_ORIGIN_REPLICAS),
});
// One owner per blob: a tracker's state is soft, and clients fail over down the digest's order.
const trackerRing = (trackerHosts) => ({ nodes: ringMembers.trackers(trackerHosts), replicas: 1 });

export const urls = {
  origin: (host) => `http://${host.ip}:${PORTS.origin}`,
  tracker: (host) => `http://${host.ip}:${PORTS.tracker}`,
  agentLocal: () => `http://127.0.0.1:${PORTS.agent}`,
};

// Origin and tracker listen on their host's address rather than 0.0.0.0, so that the address they
// take as their own is the one their ring lists. Traffic from a host to its own address goes over
// its loopback, unshaped and off its eth0 counters.
const configs = {
  tracker: ({ host, originHosts }) => ({
    listen: { host: host.ip, port: PORTS.tracker },
    origins: originRing(originHosts),
    logging,
  }),
  // Every path is set, even for a direct-only run: a default would point into the repo's
  // .devcluster/, which a running devcluster uses.
  origin: ({ dir, host, originHosts, trackerHosts, p2p }) => ({
    listen: { host: host.ip, port: PORTS.origin },
    storage: { type: 'filesystem', root: join(dir, 'storage') },
    cache: { dir: join(dir, 'cache') },
    writeBack: { dbPath: join(dir, 'write-back.db') },
    uploads: { dir: join(dir, 'uploads') },
    // Its own entry in that ring is its listen address, which is how it knows itself
    // (replication.self defaults to it).
    origins: originRing(originHosts),
    p2p: {
      listen: { host: host.ip, port: PORTS.originP2p },
      advertiseHost: host.ip,
      clusterId: CLUSTER_ID,
      dir: join(dir, 'p2p'),
      ...p2p,
    },
    trackers: trackerRing(trackerHosts),
    logging,
  }),
  agent: ({ dir, host, originHosts, trackerHosts, p2p }) => ({
    listen: { host: '127.0.0.1', port: PORTS.agent },
    cache: { dir: join(dir, 'cache') },
    origins: originRing(originHosts),
    buildIndex: ringOf(NO_BUILD_INDEX),
    trackers: trackerRing(trackerHosts),
    p2p: {
      listen: { host: host.ip, port: PORTS.agentP2p },
      advertiseHost: host.ip,
      clusterId: CLUSTER_ID,
      dir: join(dir, 'p2p'),
      ...p2p,
    },
    logging,
  }),
};

async function logTail(path, lines = 20) {
  try {
    return (await readFile(path, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts `app` on `host` with its config written under `dir/<host name>/`, then waits until
 * `readyUrl` answers 200 as seen by `driver` (a driver on a host that can reach it). Returns the
 * process handle (see bench/registry/child-processes.mjs); it is stopped by stopAll() too.
 */
export async function startApp({ app, host, dir, driver, readyUrl, links = {}, timeoutMs = 60_000 }) {
  const main = join(ROOT, 'apps', app, 'dist', 'main.js');
  try {
    await access(main);
  } catch {
    throw new Error(`${main} is missing; build the apps first (npm run bench:p2p does)`);
  }
  const appDir = join(dir, host.name);
  await mkdir(appDir, { recursive: true });
  const configFile = join(appDir, `${app}.yaml`);
  await writeFile(configFile, `${JSON.stringify(configs[app]({ dir: appDir, host, ...links }), null, 2)}\n`);
  const proc = startProcess({
    name: `${app}@${host.name}`,
    command: 'ip',
    // `ip netns exec` execs node in place: the handle's pid is node's, and SIGTERM reaches it.
    args: ['netns', 'exec', host.ns, process.execPath, main, '--config', configFile],
    // Any path an app still takes from a relative default (./.devcluster/... in the devcluster)
    // then lands in this run's temp dir, never in the repo's.
    cwd: appDir,
    logFile: join(appDir, `${app}.log`),
  });
  // Promise.race handles the loser's later settlement, so neither leaks a rejection.
  const outcome = await Promise.race([
    driver.call('waitHttp', { url: readyUrl, timeoutMs }).then(() => 'ready'),
    proc.exited.then(({ code, signal }) => `exited (${code ?? signal})`),
  ]).catch((err) => err.message);
  if (outcome !== 'ready') {
    throw new Error(
      `${proc.name}: ${outcome} before it was ready; log tail:\n${await logTail(proc.logFile)}`,
    );
  }
  return proc;
}
