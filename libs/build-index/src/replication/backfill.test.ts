import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageManifest } from '../testing/fixtures.js';
import { freePorts, startTestCluster, type TestCluster } from '../testing/replication-clusters.js';

let dir: string;
let a: TestCluster;
let b: TestCluster;
const REPOSITORIES = Array.from({ length: 16 }, (_, i) => `team/app-${i}`);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'build-index-backfill-'));
  const [a0, a1, b0] = (await freePorts(3)) as [number, number, number];
  b = await startTestCluster({ id: 'b', dir, ports: [b0] });
  a = await startTestCluster({ id: 'a', dir, ports: [a0, a1] });
  const image = imageManifest({ config: 'c', layers: ['l'] });
  await a.upload(image);
  for (const repo of REPOSITORIES) await a.nodes[0]!.client.putTag(repo, 'v1', image.digest);
});

afterEach(async () => {
  // Nothing in flight when the clusters go.
  await expect.poll(() => a.nodes.every((node) => node.replication.idle()), { timeout: 10_000 }).toBe(true);
  await a.close();
  await b.close();
  await rm(dir, { recursive: true, force: true });
});

async function createRule(): Promise<void> {
  const response = await fetch(`${a.nodes[0]!.url}/v1/replication/rules`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'to-b',
      repositories: 'team/.*',
      destination: { discover: b.nodes[0]!.url },
    }),
  });
  expect(response.status).toBe(201);
}

/** Tasks a node ran for the rule: every one of them was queued by its backfill. */
const share = (node: TestCluster['nodes'][number]) => node.replication.status().rules[0]?.done ?? 0;

describe('backfill', () => {
  it('splits the repositories among the live nodes of the cluster', async () => {
    await createRule();
    // Both nodes learnt the rule (the second by the push) and each swept its share.
    await Promise.all(a.nodes.map((node) => node.replication.backfill()));
    await expect
      .poll(
        async () => {
          const tags = await Promise.all(REPOSITORIES.map((repo) => b.nodes[0]!.client.getTag(repo, 'v1')));
          return tags.filter(Boolean).length;
        },
        { timeout: 10_000 },
      )
      .toBe(REPOSITORIES.length);
    await expect.poll(() => a.nodes.every((node) => node.replication.idle()), { timeout: 10_000 }).toBe(true);
    const shares = a.nodes.map(share);
    expect(shares.every((share) => share > 0)).toBe(true);
    expect(shares[0]! + shares[1]!).toBe(REPOSITORIES.length);
  });

  it('takes over the share of a node that is down', async () => {
    await a.nodes[1]!.stop();
    await createRule();
    await a.nodes[0]!.replication.backfill();
    await expect.poll(() => a.nodes[0]!.replication.idle(), { timeout: 10_000 }).toBe(true);
    expect(share(a.nodes[0]!)).toBe(REPOSITORIES.length);
  });

  it('catches up a destination that was down when the rule came, without waiting for the interval', async () => {
    await b.nodes[0]!.stop();
    await createRule();
    await expect
      .poll(() => a.nodes[0]!.replication.status().rules[0]?.backfill.lastError?.message ?? '', {
        timeout: 10_000,
      })
      .toMatch(/replication\/cluster/);
    await b.restart(0);
    await expect
      .poll(
        async () => {
          const tags = await Promise.all(REPOSITORIES.map((repo) => b.nodes[0]!.client.getTag(repo, 'v1')));
          return tags.filter(Boolean).length;
        },
        { timeout: 10_000 },
      )
      .toBe(REPOSITORIES.length);
  });
});
