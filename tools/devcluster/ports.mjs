// The ports of a devcluster: the documented defaults (shifted by a per-cluster offset, so
// cluster b sits 100 above cluster a), the next free ones for further instances, or free
// loopback ports for tests. Ports are planned before anything starts, so that clusters can
// be wired to each other (replication rules) before either runs.
import { createServer } from 'node:net';

/** Default ports of ARCHITECTURE.md (cluster a). */
export const DEFAULT_PORTS = {
  proxy: 15000,
  originP2p: 15001,
  origin: 15002,
  tracker: 15003,
  buildIndex: 15004,
  agents: [16000, 17000],
  agentsP2p: [16001, 17001],
};

/** Cluster n (0 = a) takes every default port plus n × this. */
export const CLUSTER_PORT_STRIDE = 100;

/**
 * Free ports come from below Linux's ephemeral range (32768 and up by default). A port the
 * kernel picked with listen(0) lies in that range, where every outgoing connection takes its
 * local port, so a cluster busy dialing could take it before the app bound it: an agent then
 * exited at start with EADDRINUSE, now and then, in the HA e2e tests.
 */
const FREE_PORT_MIN = 20_000;
const FREE_PORT_MAX = 32_767;
/**
 * Ports handed out by this process, never handed out again: concurrent picks, and the
 * clusters of one test, never get the same one.
 */
const handedOut = new Set();

export async function freePort(host = '127.0.0.1') {
  for (;;) {
    const port = FREE_PORT_MIN + Math.floor(Math.random() * (FREE_PORT_MAX - FREE_PORT_MIN + 1));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await isFree(port, host)) return port;
    handedOut.delete(port);
  }
}

async function isFree(port, host = '127.0.0.1') {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen(port, host, () => server.close(() => resolveFree(true)));
  });
}

/**
 * Ports for further instances of a component in default mode: the next free ones after
 * the documented block (15000-15004 plus the offset), handed out once each, and never
 * past the block of the next cluster.
 */
function createPortAllocator(offset) {
  const first = DEFAULT_PORTS.buildIndex + 1 + offset;
  const end = DEFAULT_PORTS.proxy + offset + CLUSTER_PORT_STRIDE;
  let next = first;
  return async () => {
    while (next < end && !(await isFree(next))) next++;
    if (next >= end) throw new Error(`no free port left in ${first}-${end - 1} for further instances`);
    return next++;
  };
}

/**
 * Plans every port of one cluster.
 * mode 'default': the documented ports plus `offset`, further instances on the next free
 * ones; mode 'free': free loopback ports (the offset is ignored).
 * counts: { agents, origins, trackers, buildIndexes }.
 * Returns { proxy, origins, originsP2p, trackers, buildIndexes, agents, agentsP2p }.
 */
export async function planPorts(mode, counts, offset = 0) {
  if (mode === 'default') {
    const nextPort = createPortAllocator(offset);
    const origins = [DEFAULT_PORTS.origin + offset];
    const originsP2p = [DEFAULT_PORTS.originP2p + offset];
    for (let i = 1; i < counts.origins; i++) {
      origins.push(await nextPort());
      originsP2p.push(await nextPort());
    }
    const trackers = [DEFAULT_PORTS.tracker + offset];
    for (let i = 1; i < counts.trackers; i++) trackers.push(await nextPort());
    const buildIndexes = [DEFAULT_PORTS.buildIndex + offset];
    for (let i = 1; i < counts.buildIndexes; i++) buildIndexes.push(await nextPort());
    // Agent n: 16000 + n × 1000 (registry), one above it P2P.
    const agents = Array.from(
      { length: counts.agents },
      (_, i) => DEFAULT_PORTS.agents[0] + i * 1000 + offset,
    );
    return {
      proxy: DEFAULT_PORTS.proxy + offset,
      origins,
      originsP2p,
      trackers,
      buildIndexes,
      agents,
      agentsP2p: agents.map((port) => port + 1),
    };
  }
  if (mode !== 'free') throw new Error(`ports must be 'default' or 'free', got ${String(mode)}`);
  const many = (n) => Promise.all(Array.from({ length: n }, () => freePort()));
  return {
    proxy: await freePort(),
    origins: await many(counts.origins),
    originsP2p: await many(counts.origins),
    trackers: await many(counts.trackers),
    buildIndexes: await many(counts.buildIndexes),
    agents: await many(counts.agents),
    agentsP2p: await many(counts.agents),
  };
}
