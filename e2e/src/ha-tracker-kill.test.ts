/**
 * Two trackers: agents announce a blob to the tracker that owns its digest on the ring.
 * Killing that tracker (SIGKILL) in the middle of a swarm download of three agents
 * stops nothing: their announces fail over to the other tracker, the swarm re-forms
 * there within about one announce interval, and every agent completes with the right
 * digest. The re-formation time is printed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobStatus, bodyDigest, putRandomBlob } from './support/swarm.js';
import { startCluster, type Cluster } from './support/cluster.js';

const MiB = 1024 * 1024;
const SIZE = 40 * MiB;
const AGENTS = 3;
/** The trackers' default announce interval. */
const ANNOUNCE_INTERVAL_MS = 3_000;
let work: string;
let cluster: Cluster;

/** Live peer entries the tracker holds over all swarms; undefined when it does not answer. */
async function swarmPeers(tracker: string): Promise<number | undefined> {
  const res = await fetch(`${tracker}/metrics`).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  return Number(/^kraken_tracker_swarm_peers (\d+)$/m.exec(await res.text())?.[1] ?? 0);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-ha-tracker-'));
  cluster = await startCluster({
    dir: join(work, 'cluster'),
    agents: AGENTS,
    trackers: 2,
    // About ten seconds for the blob: time to kill the tracker in the middle.
    overrides: { agent: { p2p: { bandwidth: { ingressBytesPerSecond: 4 * MiB } } } },
  });
});

afterAll(async () => {
  await cluster?.stop();
  if (!process.env.KEEP_E2E) await rm(work, { recursive: true, force: true });
});

describe('tracker ring', () => {
  it('keeps a swarm download going when the owning tracker is killed mid-way', async () => {
    const digest = await putRandomBlob(cluster.endpoints.origin[0]!, SIZE);

    const agents = cluster.endpoints.agent;
    const trackers = cluster.endpoints.tracker;
    expect(trackers).toHaveLength(2);
    const pulls = agents.map(async (agent) => {
      const res = await fetch(`${agent}/v2/e2e/ha-tracker/blobs/${digest}`);
      return { status: res.status, digest: await bodyDigest(res) };
    });

    // The owner is the tracker all agents announced to.
    let owner = -1;
    await expect
      .poll(
        async () => {
          const counts = await Promise.all(trackers.map(swarmPeers));
          owner = counts.findIndex((n) => (n ?? 0) >= AGENTS);
          return owner;
        },
        { timeout: 30_000, interval: 100 },
      )
      .toBeGreaterThanOrEqual(0);
    const survivor = trackers[1 - owner]!;
    expect(await swarmPeers(survivor)).toBe(0);

    // Kill it once the agents are well into the download, but not done.
    await expect
      .poll(
        async () => {
          const all = await Promise.all(agents.map((agent) => blobStatus(agent, digest)));
          return Math.min(...all.map((s) => (s?.piecesDone ?? 0) / (s?.pieceCount ?? 1)));
        },
        { timeout: 60_000, interval: 50 },
      )
      .toBeGreaterThan(0.2);
    const progressAtKill = await Promise.all(agents.map((agent) => blobStatus(agent, digest)));
    // The whole swarm as the owner knew it: the agents, and the origin seeding them.
    const swarmSize = (await swarmPeers(trackers[owner]!)) ?? 0;
    expect(swarmSize).toBeGreaterThanOrEqual(AGENTS);
    await cluster.component(`tracker-${owner}`)!.stop('SIGKILL');
    const killedAt = performance.now();

    // Re-formed: every peer of the swarm announced to the survivor.
    await expect
      .poll(async () => (await swarmPeers(survivor)) ?? 0, { timeout: 30_000, interval: 50 })
      .toBeGreaterThanOrEqual(swarmSize);
    const reformMs = Math.round(performance.now() - killedAt);
    console.log(
      `tracker ring: swarm of ${swarmSize} peers (${AGENTS} agents) re-formed on the surviving tracker ${reformMs} ms after the owner was killed (announce interval ${ANNOUNCE_INTERVAL_MS} ms)`,
    );
    expect(reformMs).toBeLessThan(3 * ANNOUNCE_INTERVAL_MS);

    for (const pull of await Promise.all(pulls)) expect(pull).toEqual({ status: 200, digest });
    for (const [i, agent] of agents.entries()) {
      expect(progressAtKill[i]?.state).not.toBe('done');
      expect(await blobStatus(agent, digest)).toMatchObject({ source: 'swarm', state: 'done' });
    }
  });
});
