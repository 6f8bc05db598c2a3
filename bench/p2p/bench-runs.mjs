// The measured part of the benchmark, on a network that is already up: the shaping check, the
// origin and tracker, the upload, the direct baseline, then the agents and the p2p run.
import { join } from 'node:path';
import { summarizeRun } from './run-summary.mjs';
import { checkShaping } from './shaping-check.mjs';
import { startApp, urls } from './swarm-stack.mjs';
import { namespacePids } from './test-network.mjs';
import { timedPull } from './timed-pull.mjs';

const AGENT_START_CONCURRENCY = 4;

/** Agent host names a1…aN, zero-padded so they sort. */
export const agentNames = (n) =>
  Array.from({ length: n }, (_, i) => `a${String(i + 1).padStart(String(n).length, '0')}`);

/**
 * Starts the apps on the network and runs the direct and/or p2p runs that `opts.runs` asks for.
 * Returns { runs: { direct?, p2p? } (see run-summary.mjs), shaping, idealSeconds }.
 */
export async function runBench({ opts, net, drivers, work, blob, log }) {
  const bytesPerSecond = opts.rateMBps * 1e6;
  const idealSeconds = blob.size / bytesPerSecond;
  const originHost = net.hosts.get('origin');
  const trackerHost = net.hosts.get('tracker');
  const originDriver = drivers.get('origin');
  const agents = agentNames(opts.agents).map((name) => drivers.get(name));
  const swarm = opts.runs.includes('p2p');
  const appDir = join(work, 'hosts');
  const apps = new Map();

  const shaping = await checkShaping({ from: originDriver, to: agents[0], bytesPerSecond, log });

  log('starting the origin' + (swarm ? ' and the tracker' : ''));
  const originUrl = urls.origin(originHost);
  const trackerUrl = urls.tracker(trackerHost);
  apps.set(
    'origin',
    await startApp({
      app: 'origin',
      host: originHost,
      dir: appDir,
      driver: originDriver,
      readyUrl: `${originUrl}/health`,
      links: { trackerHost },
    }),
  );
  if (swarm) {
    apps.set(
      'tracker',
      await startApp({
        app: 'tracker',
        host: trackerHost,
        dir: appDir,
        driver: originDriver,
        readyUrl: `${trackerUrl}/readiness`,
        links: { originHost },
      }),
    );
  }
  await originDriver.call('waitHttp', { url: `${originUrl}/readiness` });

  // From the origin's own host, so over its loopback: not shaped, and not on its eth0 counters.
  log(`uploading the ${opts.sizeMiB} MiB blob to the origin`);
  await originDriver.call('upload', {
    url: `${originUrl}/v1/blobs/${blob.digest}`,
    file: blob.path,
    size: blob.size,
  });

  if (swarm) {
    // Kraken computes a blob's metainfo (piece hashes) when the blob is pushed; our origin does it
    // on first request, hashing the whole blob. Ask once here so the p2p run measures distribution.
    const { status } = await originDriver.call('getText', {
      url: `${originUrl}/v1/blobs/${blob.digest}/metainfo`,
      timeoutMs: 600_000,
    });
    if (status !== 200) throw new Error(`origin metainfo: HTTP ${status}`);
  }

  const namespacePidsOf = (names) => names.flatMap((n) => namespacePids(net.hosts.get(n).ns));
  const driverPids = new Set([...drivers.values()].map((d) => d.pid));
  const cpuGroups = () => {
    const agentHostPids = namespacePidsOf(agentNames(opts.agents));
    return {
      origin: namespacePidsOf(['origin']).filter((p) => !driverPids.has(p)),
      tracker: namespacePidsOf(['tracker']).filter((p) => !driverPids.has(p)),
      agents: agentHostPids.filter((p) => !driverPids.has(p)),
      clients: [...driverPids],
    };
  };

  const runs = {};
  if (opts.runs.includes('direct')) {
    const pullers = agents.slice(0, opts.baselineAgents);
    log(`direct run: ${pullers.length} agent hosts GET the blob from the origin`);
    const measured = await timedPull({
      drivers: pullers,
      urlFor: () => `${originUrl}/v1/blobs/${blob.digest}`,
      blob,
      originHost,
      cpuGroups,
      timeoutMs: (3 * pullers.length * idealSeconds + 60) * 1000,
    });
    runs.direct = summarizeRun({ ...measured, idealSeconds, sizeBytes: blob.size });
  }

  if (swarm) {
    log(`starting ${agents.length} agents`);
    // A few at a time: node's start-up is CPU-bound, and a dozen at once on two cores can take
    // longer than the readiness timeout for every one of them.
    const queue = [...agents];
    const startNext = async () => {
      for (let driver = queue.shift(); driver !== undefined; driver = queue.shift()) {
        const proc = await startApp({
          app: 'agent',
          host: driver.host,
          dir: appDir,
          driver,
          readyUrl: `${urls.agentLocal()}/health`,
          links: { originHost, trackerHost },
          timeoutMs: 120_000,
        });
        apps.set(driver.host.name, proc);
      }
    };
    await Promise.all(Array.from({ length: AGENT_START_CONCURRENCY }, startNext));
    const events = [];
    if (opts.kill !== undefined) {
      const victim = apps.get(opts.kill.host);
      if (victim === undefined) throw new Error(`--kill: no app on host ${opts.kill.host}`);
      const atMs = (opts.kill.percentOfIdeal / 100) * idealSeconds * 1000;
      events.push({
        atMs,
        run: () => {
          log(`killing ${victim.name} at ${(atMs / 1000).toFixed(1)} s`);
          victim.child.kill('SIGKILL');
        },
      });
    }
    log(`p2p run: ${agents.length} agents pull the blob through the swarm`);
    const measured = await timedPull({
      drivers: agents,
      urlFor: () => `${urls.agentLocal()}/v2/bench/p2p/blobs/${blob.digest}`,
      blob,
      originHost,
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
    runs.p2p = summarizeRun({ ...measured, idealSeconds, sizeBytes: blob.size });
  }
  return { runs, shaping, idealSeconds };
}
