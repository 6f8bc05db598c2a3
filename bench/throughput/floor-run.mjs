// One run of the floor (floor-peer.mjs says what it does): an origin process and N agent
// processes wired into a chain before the start, then the same clients as the product's run
// (blob-pull.mjs) GET the blob from every agent at one instant. CPU is counted per role exactly as
// for the product, so the two runs' CPU per GiB delivered can be divided.
import { fork } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pullAll } from './blob-pull.mjs';
import { resetPageCache } from './page-cache.mjs';
import { cpuSnapshot, cpuSpent, machineBusySeconds, memory } from './process-stats.mjs';
import { nextMessage } from '../shared/child-messages.mjs';

const PEER = new URL('./floor-peer.mjs', import.meta.url).pathname;

/** `blob`: { path, digest, size, metainfo }. Resolves like runCluster, without swarm status. */
export async function runFloor({ dir, agents, blob, timeoutMs, dropCaches }) {
  await mkdir(dir, { recursive: true });
  const spawn = () => fork(PEER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const origin = spawn();
  const peers = Array.from({ length: agents }, spawn);
  const all = [origin, ...peers];
  try {
    origin.send({ type: 'start', role: 'origin', blobPath: blob.path, metainfo: blob.metainfo });
    peers.forEach((child, i) =>
      child.send({
        type: 'start',
        role: 'agent',
        dataPath: join(dir, `agent-${i}.data`),
        metainfo: blob.metainfo,
        last: i === agents - 1,
      }),
    );
    const originReady = await nextMessage(origin, 'ready', 'a floor process');
    const ready = await Promise.all(peers.map((child) => nextMessage(child, 'ready', 'a floor process')));
    const wired = peers.map((child) => nextMessage(child, 'wired', 'a floor process'));
    peers.forEach((child, i) =>
      child.send({
        type: 'wire',
        first: i === 0,
        upstreamPort: i === 0 ? originReady.peerPort : ready[i - 1].peerPort,
      }),
    );
    await Promise.all(wired);

    const pageCache = await resetPageCache({ drop: dropCaches, warm: [blob.path] });
    const roles = { origin: [origin.pid], agents: peers.map((c) => c.pid) };
    const atStart = peers.map((c) => memory(c.pid));
    let cpuBefore;
    let machineBefore;
    const { startedAt, pulls } = await pullAll({
      urls: ready.map((r) => `http://127.0.0.1:${r.httpPort}/`),
      digest: blob.digest,
      size: blob.size,
      timeoutMs,
      onStart: () => {
        cpuBefore = cpuSnapshot(roles);
        machineBefore = machineBusySeconds();
      },
    });
    const wallSeconds = (performance.now() - startedAt) / 1000;
    const { byRole: cpu, system: systemCpu } = cpuSpent(cpuBefore, cpuSnapshot(roles));
    const machineBusy = machineBusySeconds() - machineBefore;
    return {
      wallSeconds,
      pageCache,
      pulls: pulls.map((pull, i) => ({ agent: `floor-${i}`, ...pull })),
      cpuSeconds: cpu,
      systemCpuSeconds: systemCpu,
      machineBusySeconds: machineBusy,
      agentMemory: peers.map((c, i) => {
        const now = memory(c.pid);
        return {
          agent: `floor-${i}`,
          rssAfterStartBytes: atStart[i]?.rssBytes,
          rssAfterBytes: now?.rssBytes,
          peakRssBytes: now?.peakRssBytes,
        };
      }),
    };
  } finally {
    for (const child of all) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.disconnect();
        await exited;
      }
    }
    await rm(dir, { recursive: true, force: true });
  }
}
