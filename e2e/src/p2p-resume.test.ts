/**
 * An agent killed (SIGKILL) in the middle of a swarm download resumes after a restart
 * with the pieces it had verified: the second attempt receives only what was missing,
 * and the blob it serves has the right digest.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobStatus, bodyDigest, putRandomBlob, type BlobStatus } from './support/swarm.js';
import { startCluster, type Cluster } from './support/cluster.js';

const MiB = 1024 * 1024;
const SIZE = 48 * MiB;
let work: string;
let cluster: Cluster;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-resume-'));
  cluster = await startCluster({
    dir: join(work, 'cluster'),
    agents: 1,
    // About six seconds for the whole blob: time to kill the agent half way.
    overrides: { agent: { p2p: { bandwidth: { ingressBytesPerSecond: 8 * MiB } } } },
  });
});

afterAll(async () => {
  await cluster?.stop();
  if (!process.env.KEEP_E2E) await rm(work, { recursive: true, force: true });
});

describe('swarm download resume', () => {
  it('keeps verified pieces across a SIGKILL and fetches only the rest', async () => {
    const digest = await putRandomBlob(cluster.endpoints.origin[0]!, SIZE);

    const agent = cluster.endpoints.agent[0]!;
    const firstPull = fetch(`${agent}/v2/e2e/resume/blobs/${digest}`)
      .then((res) => res.arrayBuffer())
      .catch(() => undefined);
    // Kill it once about a third of the pieces are in.
    let before: BlobStatus | undefined;
    await expect
      .poll(
        async () => {
          before = await blobStatus(agent, digest);
          return (before?.piecesDone ?? 0) / (before?.pieceCount ?? 1);
        },
        { timeout: 60_000, interval: 50 },
      )
      .toBeGreaterThan(0.33);
    await cluster.component('agent-0')!.stop('SIGKILL');
    await firstPull;
    expect(before?.source).toBe('swarm');

    await cluster.restart('agent-0');
    const res = await fetch(`${agent}/v2/e2e/resume/blobs/${digest}`);
    expect(res.status).toBe(200);
    expect(await bodyDigest(res)).toBe(digest);

    const after = await blobStatus(agent, digest);
    expect(after).toMatchObject({ source: 'swarm', state: 'done' });
    const received = (after?.bytesFromPeers ?? 0) + (after?.bytesFromOrigins ?? 0);
    // The restarted agent fetched at most what was missing (plus endgame duplicates).
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(SIZE * 0.8);
  });
});
