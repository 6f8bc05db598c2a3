// The measured part of the benchmark, on a network that is already up: the shaping check, the
// origins and trackers, the upload (replicated to every origin owner), the direct baseline, then
// one or more p2p runs, each with fresh agents.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { blobOwners } from './ring-owners.mjs';
import { summarizeRun } from './run-summary.mjs';
import { checkShaping } from './shaping-check.mjs';
import { startApp, urls } from './swarm-stack.mjs';
import { namespacePids } from './test-network.mjs';
import { timedPull } from './timed-pull.mjs';

const AGENT_START_CONCURRENCY = 4;
const OWNER_POLL_MS = 500;
/**
 * Kill targets named by role, resolved once the blob's digest is known: the origin the agents
 * read from first, and the tracker they announce to (see ring-owners.mjs).
 */
export const OWNER_ROLES = {
  'origin-owner': (owners) => owners.originOwners[0].name,
  'tracker-owner': (owners) => owners.trackerOwner.name,
};

/** Agent host names a1…aN, zero-padded so they sort. */
export const agentNames = (n) =>
  Array.from({ length: n }, (_, i) => `a${String(i + 1).padStart(String(n).length, '0')}`);
/** origin, origin2, origin3…: the first keeps the name `--kill origin@50%` has always used. */
export const originNames = (n) =>
  Array.from({ length: n }, (_, i) => (i === 0 ? 'origin' : `origin${i + 1}`));
export const trackerNames = (n) =>
  Array.from({ length: n }, (_, i) => (i === 0 ? 'tracker' : `tracker${i + 1}`));

/** Polls HEAD on every owner (from `driver`) until each answers 200. */
async function waitForReplicas({ driver, owners, digest, timeoutMs, log }) {
  const deadline = Date.now() + timeoutMs;
  const missing = new Set(owners);
  while (missing.size > 0) {
    for (const host of [...missing]) {
      const { status } = await driver
        .call('getText', {
          url: `${urls.origin(host)}/v1/blobs/${digest}`,
          method: 'HEAD',
          timeoutMs: 10_000,
        })
        .catch(() => ({ status: 0 }));
      if (status === 200) missing.delete(host);
    }
    if (missing.size === 0) break;
    if (Date.now() > deadline) {
      throw new Error(
        `the blob did not reach origin owners ${[...missing].map((h) => h.name).join(', ')} in time`,
      );
    }
    await sleep(OWNER_POLL_MS);
  }
  log(`the blob is on every origin owner: ${owners.map((h) => h.name).join(', ')}`);
}

/**
 * Starts the apps on the network and runs the direct run and the p2p runs (`p2pRuns`:
 * [{ name, kill: [{ host, percentOfIdeal }] }], run in order, each with fresh agents).
 * Returns { runs: { direct?, <p2p run name>… } (see run-summary.mjs), shaping, idealSeconds, owners }.
 */
export async function runBench({ opts, p2pRuns, net, drivers, work, blob, log }) {
  const bytesPerSecond = opts.rateMBps * 1e6;
  const idealSeconds = blob.size / bytesPerSecond;
  const originHosts = originNames(opts.origins).map((n) => net.hosts.get(n));
  const trackerHosts = trackerNames(opts.trackers).map((n) => net.hosts.get(n));
  const [originHost] = originHosts;
  const originDriver = drivers.get(originHost.name);
  const agents = agentNames(opts.agents).map((name) => drivers.get(name));
  const swarm = p2pRuns.length > 0;
  const appDir = join(work, 'hosts');
  const apps = new Map();
  const links = { originHosts, trackerHosts, p2p: opts.p2p };

  const shaping = await checkShaping({ from: originDriver, to: agents[0], bytesPerSecond, log });

  log(`starting ${originHosts.length} origin(s)` + (swarm ? ` and ${trackerHosts.length} tracker(s)` : ''));
  const startServer = async (app, host, readyPath) => {
    const proc = await startApp({
      app,
      host,
      dir: appDir,
      driver: drivers.get(host.name),
      readyUrl: `${(app === 'origin' ? urls.origin : urls.tracker)(host)}${readyPath}`,
      links,
    });
    apps.set(host.name, proc);
  };
  await Promise.all(originHosts.map((h) => startServer('origin', h, '/health')));
  if (swarm) await Promise.all(trackerHosts.map((h) => startServer('tracker', h, '/readiness')));
  for (const h of originHosts)
    await drivers.get(h.name).call('waitHttp', { url: `${urls.origin(h)}/readiness` });

  const owners = await blobOwners({ originHosts, trackerHosts, digest: blob.digest });
  // From the first origin's own host, so over its loopback: not shaped, and not on its eth0
  // counters. The origin copies it to the other owners over the shaped links before answering.
  log(`uploading the ${opts.sizeMiB} MiB blob to ${originHost.name}`);
  await originDriver.call('upload', {
    url: `${urls.origin(originHost)}/v1/blobs/${blob.digest}`,
    file: blob.path,
    size: blob.size,
    timeoutMs: (owners.originOwners.length * idealSeconds * 3 + 120) * 1000,
  });
  // An owner the first one did not yet see as healthy gets its copy from the re-replication sweep.
  await waitForReplicas({
    driver: originDriver,
    owners: owners.originOwners,
    digest: blob.digest,
    timeoutMs: (owners.originOwners.length * idealSeconds * 3 + 120) * 1000,
    log,
  });

  if (swarm) {
    // Kraken computes a blob's metainfo (piece hashes) when the blob is pushed; our origin does it
    // on first request, hashing the whole blob. Ask every owner here so the runs measure distribution.
    await Promise.all(
      owners.originOwners.map(async (h) => {
        const { status } = await drivers
          .get(h.name)
          .call('getText', { url: `${urls.origin(h)}/v1/blobs/${blob.digest}/metainfo`, timeoutMs: 600_000 });
        if (status !== 200) throw new Error(`${h.name} metainfo: HTTP ${status}`);
      }),
    );
  }

  const namespacePidsOf = (names) => names.flatMap((n) => namespacePids(net.hosts.get(n).ns));
  const driverPids = new Set([...drivers.values()].map((d) => d.pid));
  const cpuGroups = () => ({
    origin: namespacePidsOf(originHosts.map((h) => h.name)).filter((p) => !driverPids.has(p)),
    tracker: namespacePidsOf(trackerHosts.map((h) => h.name)).filter((p) => !driverPids.has(p)),
    agents: namespacePidsOf(agentNames(opts.agents)).filter((p) => !driverPids.has(p)),
    clients: [...driverPids],
  });

  const runs = {};
  if (opts.runs.includes('direct')) {
    const pullers = agents.slice(0, opts.baselineAgents);
    log(`direct run: ${pullers.length} agent hosts GET the blob from ${originHost.name}`);
    const measured = await timedPull({
      drivers: pullers,
      urlFor: () => `${urls.origin(originHost)}/v1/blobs/${blob.digest}`,
      blob,
      originHosts,
      cpuGroups,
      timeoutMs: (3 * pullers.length * idealSeconds + 60) * 1000,
    });
    runs.direct = summarizeRun({ ...measured, idealSeconds, sizeBytes: blob.size });
  }

  for (const { name, kill } of p2pRuns) {
    log(`${name}: starting ${agents.length} agents`);
    // Fresh agents with empty caches for every run; the blob stays on the origins.
    const agentDir = join(work, `agents-${name}`);
    const agentProcs = [];
    // A few at a time: node's start-up is CPU-bound, and a dozen at once on two cores can take
    // longer than the readiness timeout for every one of them.
    const queue = [...agents];
    const startNext = async () => {
      for (let driver = queue.shift(); driver !== undefined; driver = queue.shift()) {
        const proc = await startApp({
          app: 'agent',
          host: driver.host,
          dir: agentDir,
          driver,
          readyUrl: `${urls.agentLocal()}/health`,
          links,
          timeoutMs: 120_000,
        });
        apps.set(driver.host.name, proc);
        agentProcs.push(proc);
      }
    };
    await Promise.all(Array.from({ length: AGENT_START_CONCURRENCY }, startNext));
    const events = kill.map(({ host: wanted, percentOfIdeal }) => {
      const host = OWNER_ROLES[wanted]?.(owners) ?? wanted;
      const victim = apps.get(host);
      if (victim === undefined) throw new Error(`--kill: no app on host ${host}`);
      const atMs = (percentOfIdeal / 100) * idealSeconds * 1000;
      return {
        atMs,
        run: () => {
          log(`killing ${victim.name} (SIGKILL) at ${(atMs / 1000).toFixed(1)} s`);
          victim.child.kill('SIGKILL');
        },
      };
    });
    log(`${name}: ${agents.length} agents pull the blob through the swarm`);
    const measured = await timedPull({
      drivers: agents,
      urlFor: () => `${urls.agentLocal()}/v2/bench/p2p/blobs/${blob.digest}`,
      blob,
      originHosts,
      cpuGroups,
      timeoutMs: (10 * idealSeconds + 120) * 1000,
      events,
    });
    // Where each agent's bytes came from, as the agent itself reports it.
    await Promise.all(
      measured.pulls.map(async (pull, i) => {
        try {
          const { status, text } = await agents[i].call('getText', {
            url: `${urls.agentLocal()}/v1/blobs/${blob.digest}/status`,
          });
          pull.status = status === 200 ? JSON.parse(text) : { httpStatus: status, body: text.slice(0, 200) };
        } catch (err) {
          pull.status = { error: err.message };
        }
      }),
    );
    runs[name] = {
      ...summarizeRun({ ...measured, idealSeconds, sizeBytes: blob.size }),
      killed: kill.map((k) => ({ ...k, host: OWNER_ROLES[k.host]?.(owners) ?? k.host })),
    };
    // The next run's agents start on the same hosts and ports.
    await Promise.all(agentProcs.map((p) => p.stop()));
  }
  return {
    runs,
    shaping,
    idealSeconds,
    owners: {
      origins: owners.originOwners.map((h) => h.name),
      tracker: swarm ? owners.trackerOwner.name : null,
    },
  };
}
