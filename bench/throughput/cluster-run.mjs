// One run of the product: a fresh devcluster (one origin, one tracker, N agents, on free loopback
// ports, state under a throwaway directory), the image pushed with skopeo through the proxy, then
// every agent asked for the layer through its registry port at one instant. CPU is counted per
// role around the pulls; each agent's swarm status says how many bytes came from the origin.
import { startCluster } from '@kraken/devcluster';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { skopeoCopy } from '../replication/skopeo-copy.mjs';
import { pullAll } from './blob-pull.mjs';
import { findFiles, resetPageCache } from './page-cache.mjs';
import { startPerf } from './perf-profile.mjs';
import { cpuSnapshot, cpuSpent, machineBusySeconds, memory } from './process-stats.mjs';

const ROLE_OF_APP = { origin: 'origin', agent: 'agents', tracker: 'tracker' };

/**
 * Waits until the origin is done with the push: the blob's metainfo is ready (the origin
 * prepares it as the blob lands) and its write-back to the storage backend has finished
 * (`write_back_queue_depth` 0). Neither is work per delivered byte; both would otherwise
 * overlap the pulls by a varying amount. Resolves with the seconds waited.
 */
async function originSettled(origin, digest, timeoutMs) {
  const started = performance.now();
  const metainfo = await fetch(`${origin}/v1/blobs/${digest}/metainfo`);
  if (!metainfo.ok) throw new Error(`the origin has no metainfo for ${digest}: ${metainfo.status}`);
  await metainfo.arrayBuffer();
  for (;;) {
    const metrics = await (await fetch(`${origin}/metrics`)).text();
    const depth = /^kraken_origin_write_back_queue_depth(?:\{[^}]*\})? (\S+)$/m.exec(metrics)?.[1];
    if (depth === undefined || Number(depth) === 0) break;
    if (performance.now() - started > timeoutMs)
      throw new Error(`write-back still pending after ${timeoutMs} ms`);
    await sleep(100);
  }
  return (performance.now() - started) / 1000;
}

async function getJson(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * `image`: { layout, tag, repo, layer: { digest, size } }. `profileDir`: when set, every component
 * runs under `node --cpu-prof` and writes its profile there on exit. `perfFile`: when set, `perf
 * record` samples the origin and the agents during the pulls into it (perf-profile.mjs). Resolves
 * with the pulls, CPU seconds by role, agent memory, swarm status per agent and the pids of each
 * role.
 */
export async function runCluster({
  dir,
  agents,
  image,
  timeoutMs,
  profileDir,
  perfFile,
  dropCaches,
  p2p,
  log,
}) {
  const savedOptions = process.env.NODE_OPTIONS;
  const nodeOptions = [
    savedOptions,
    profileDir === undefined ? undefined : `--cpu-prof --cpu-prof-dir=${profileDir}`,
    perfFile === undefined ? undefined : '--perf-basic-prof',
  ].filter(Boolean);
  // Inherited by the component processes only: the bench itself is already running.
  if (nodeOptions.length > 0) process.env.NODE_OPTIONS = nodeOptions.join(' ');
  let cluster;
  try {
    cluster = await startCluster({
      dir,
      agents,
      ports: 'free',
      logLevel: 'warn',
      ...(p2p === undefined ? {} : { overrides: { agent: { p2p }, origin: { p2p } } }),
    });
  } finally {
    if (savedOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = savedOptions;
  }
  try {
    const proxy = new URL(cluster.endpoints.proxy[0]).host;
    log(`pushing ${image.repo}:${image.tag} with skopeo through the proxy at ${proxy}`);
    const pushMs = await skopeoCopy(
      `oci:${image.layout}:${image.tag}`,
      `docker://${proxy}/${image.repo}:${image.tag}`,
    );
    const origin = cluster.endpoints.origin[0];
    const head = await fetch(`${origin}/v1/blobs/${image.layer.digest}`, { method: 'HEAD' });
    if (head.status !== 200)
      throw new Error(`the origin does not hold the layer after the push (${head.status})`);
    const settleSeconds = await originSettled(origin, image.layer.digest, timeoutMs);

    const roles = { origin: [], agents: [], tracker: [], other: [] };
    const roleOfPid = new Map();
    for (const component of cluster.components) {
      const role = ROLE_OF_APP[component.app] ?? 'other';
      roles[role].push(component.child.pid);
      roleOfPid.set(component.child.pid, role);
    }
    const agentComponents = cluster.components.filter((c) => c.app === 'agent');
    const agentsAtStart = agentComponents.map((c) => memory(c.child.pid));
    const urls = agentComponents.map((c) => `${c.url}/v2/${image.repo}/blobs/${image.layer.digest}`);
    const originCopies = await findFiles(
      join(dir, 'origin-0', 'cache'),
      image.layer.digest.slice('sha256:'.length),
    );
    const pageCache = await resetPageCache({ drop: dropCaches, warm: originCopies });

    let cpuBefore;
    let machineBefore;
    let perf;
    const { startedAt, startedAtMicros, pulls } = await pullAll({
      urls,
      digest: image.layer.digest,
      size: image.layer.size,
      timeoutMs,
      onStart: () => {
        cpuBefore = cpuSnapshot(roles);
        machineBefore = machineBusySeconds();
        if (perfFile !== undefined)
          perf = startPerf({ pids: [...roles.origin, ...roles.agents], file: perfFile });
      },
    });
    await perf?.stop();
    const wallSeconds = (performance.now() - startedAt) / 1000;
    const { byRole: cpu, system: systemCpu } = cpuSpent(cpuBefore, cpuSnapshot(roles));
    const machineBusy = machineBusySeconds() - machineBefore;
    const endedAtMicros = Number(process.hrtime.bigint() / 1000n);

    const agentMemory = agentComponents.map((c, i) => ({
      agent: c.name,
      rssAfterStartBytes: agentsAtStart[i]?.rssBytes,
      ...(() => {
        const now = memory(c.child.pid);
        return { rssAfterBytes: now?.rssBytes, peakRssBytes: now?.peakRssBytes };
      })(),
    }));
    const status = await Promise.all(
      agentComponents.map((c) =>
        getJson(`${c.url}/v1/blobs/${image.layer.digest}/status`).catch((err) => ({ error: err.message })),
      ),
    );
    return {
      pushSeconds: pushMs / 1000,
      settleSeconds,
      pageCache,
      wallSeconds,
      pulls: pulls.map((pull, i) => ({ agent: agentComponents[i].name, ...pull })),
      cpuSeconds: cpu,
      systemCpuSeconds: systemCpu,
      machineBusySeconds: machineBusy,
      agentMemory,
      status,
      window: { startMicros: startedAtMicros, endMicros: endedAtMicros },
      roleOfPid,
      logsDir: join(dir, 'logs'),
    };
  } finally {
    // SIGTERM: each app drains and exits, which is also when --cpu-prof writes its profile.
    await cluster.stop();
  }
}
