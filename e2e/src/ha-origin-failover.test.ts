/**
 * The origin ring under fire, with real processes: three origins, each blob on two of
 * them. An origin is killed with SIGKILL in the middle of a push through the proxy,
 * and another in the middle of eight concurrent pulls through the agents; every push
 * and pull still succeeds with the right digest. Restarted, the killed origins get
 * back every copy they own, and each blob is then readable from each of its owners.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, stat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRing, parseRingNode, type Ring } from '@kraken/hashring';
import { startCluster, type Cluster } from './support/cluster.js';

const MiB = 1024 * 1024;
const REPLICAS = 2;

/** Clients notice a dead or recovered origin within about a second. */
const fastRing = {
  health: { unhealthyThreshold: 2, healthyThreshold: 2, active: { intervalMs: 300, timeoutMs: 1000 } },
};

interface Blob {
  readonly bytes: Buffer;
  readonly digest: string;
}

function makeBlob(size: number): Blob {
  const bytes = randomBytes(size);
  return { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

let work: string;
let cluster: Cluster;
let ring: Ring;
const pushed: Blob[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-ha-origin-'));
  cluster = await startCluster({
    dir: join(work, 'cluster'),
    agents: 2,
    origins: 3,
    replicas: REPLICAS,
    overrides: {
      origin: { origins: fastRing, replication: { changeDelayMs: 200, retryDelayMs: 1000 } },
      proxy: { origins: fastRing },
      tracker: { origins: fastRing, origin: { seedRetryMs: 500 } },
      buildIndex: { origins: fastRing },
      agent: { origins: fastRing, p2p: { fallbackAfterMs: 5000 } },
    },
  });
  ring = createRing({
    nodes: cluster.endpoints.origin.map((url) => parseRingNode(url)),
    replicas: REPLICAS,
  });
});

afterAll(async () => {
  await cluster?.stop();
  if (!process.env.KEEP_E2E) await rm(work, { recursive: true, force: true });
});

const originName = (url: string) => `origin-${cluster.endpoints.origin.indexOf(url)}`;
const ownersOf = (digest: string) => ring.owners(digest).map((node) => node.url);

async function push(blob: Blob): Promise<Response> {
  const proxy = cluster.endpoints.proxy[0]!;
  return fetch(`${proxy}/v2/e2e/ha/blobs/uploads/?digest=${blob.digest}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: blob.bytes,
  });
}

/** Reads a blob and returns its sha256 digest, streaming. */
async function digestOfResponse(res: Response): Promise<string> {
  expect(res.status).toBe(200);
  const hash = createHash('sha256');
  for await (const chunk of res.body!) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

async function hasBlob(origin: string, digest: string): Promise<boolean> {
  const res = await fetch(`${origin}/v1/blobs/${digest}`, { method: 'HEAD' });
  return res.status === 200;
}

/** Waits until every pushed blob is on each of its owners (the sweep's work). */
async function waitForFullReplication(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let missing: string[] = [];
  while (Date.now() < deadline) {
    missing = [];
    for (const blob of pushed) {
      for (const owner of ownersOf(blob.digest)) {
        if (!(await hasBlob(owner, blob.digest))) missing.push(`${blob.digest} on ${owner}`);
      }
    }
    if (missing.length === 0) return;
    await sleep(250);
  }
  throw new Error(`copies still missing after ${timeoutMs} ms: ${missing.join(', ')}`);
}

/** Whether a file under an origin's directory grew since `since` (an incoming blob being written). */
async function writingSince(dir: string, since: number): Promise<boolean> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isFile() || entry.name.endsWith('.db') || entry.name.includes('.db-')) continue;
    const info = await stat(join(entry.parentPath, entry.name)).catch(() => undefined);
    // Past a MiB: readiness probes write (and remove) tiny files all the time.
    if (info !== undefined && info.size >= MiB && info.mtimeMs >= since) return true;
  }
  return false;
}

async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe('origin ring with an origin killed', () => {
  it('finishes a push whose receiving origin is killed half-way', async () => {
    const blob = makeBlob(64 * MiB);
    // The proxy sends the blob to its first owner, which stores it and then copies it on.
    const primary = ownersOf(blob.digest)[0]!;
    const victim = cluster.component(originName(primary))!;
    const started = Date.now();
    const response = push(blob);
    let answeredAt = 0;
    void response.then(() => (answeredAt = Date.now()));
    while (!(await writingSince(join(cluster.dir, victim.name), started))) {
      expect(Date.now() - started).toBeLessThan(60_000);
      await sleep(5);
    }
    await victim.stop('SIGKILL');
    // The kill landed before the push was acknowledged: the push had to fail over.
    expect(answeredAt).toBe(0);
    const res = await response;
    expect(res.status).toBe(201);
    expect(res.headers.get('docker-content-digest')).toBe(blob.digest);
    pushed.push(blob);

    // The pusher reads its own write, through the proxy and from each live owner.
    const proxy = cluster.endpoints.proxy[0]!;
    expect(await digestOfResponse(await fetch(`${proxy}/v2/e2e/ha/blobs/${blob.digest}`))).toBe(blob.digest);
    for (const origin of cluster.endpoints.origin.filter((url) => url !== primary)) {
      expect(await digestOfResponse(await fetch(`${origin}/v1/blobs/${blob.digest}`))).toBe(blob.digest);
    }

    // More pushes while that origin is down: healthy nodes stand in for it.
    for (let i = 0; i < 6; i++) {
      const small = makeBlob(6 * MiB + i);
      expect((await push(small)).status).toBe(201);
      pushed.push(small);
    }

    // Back up, the origin gets every copy it owns from the others' sweeps.
    await cluster.restart(victim.name);
    await waitForFullReplication();
    const rereplicated = await Promise.all(
      cluster.endpoints.origin.map((url) =>
        metricValue(url, 'kraken_origin_replication_blobs_rereplicated_total'),
      ),
    );
    expect(rereplicated.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it('finishes eight concurrent pulls through the agents while an origin is killed', async () => {
    expect(pushed.length).toBe(7);
    // The origin owning most of the blobs is the one to lose.
    const owned = new Map<string, number>();
    for (const blob of pushed) {
      for (const owner of ownersOf(blob.digest)) owned.set(owner, (owned.get(owner) ?? 0) + 1);
    }
    const busiest = [...owned.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    const victim = cluster.component(originName(busiest))!;
    const [agentA, agentB] = cluster.endpoints.agent as [string, string];
    const big = pushed[0]!;
    const pulls = [
      { agent: agentA, blob: big },
      { agent: agentB, blob: big },
      ...pushed.slice(1).map((blob, i) => ({ agent: i % 2 === 0 ? agentA : agentB, blob })),
    ];
    expect(pulls).toHaveLength(8);

    const results = pulls.map(async ({ agent, blob }) =>
      digestOfResponse(await fetch(`${agent}/v2/e2e/ha/blobs/${blob.digest}`)),
    );
    let settled = 0;
    for (const result of results) void result.finally(() => settled++);
    // Pulls under way (swarm metainfo fetched, pieces moving): pull the plug.
    await sleep(150);
    expect(settled).toBeLessThan(pulls.length);
    await victim.stop('SIGKILL');
    expect(await Promise.all(results)).toEqual(pulls.map(({ blob }) => blob.digest));

    await cluster.restart(victim.name);
    await waitForFullReplication();
  });

  it('serves every blob ever pushed from each of its owners', async () => {
    for (const blob of pushed) {
      for (const owner of ownersOf(blob.digest)) {
        expect(await digestOfResponse(await fetch(`${owner}/v1/blobs/${blob.digest}`))).toBe(blob.digest);
      }
    }
    const missingFound = await Promise.all(
      cluster.endpoints.origin.map((url) =>
        metricValue(url, 'kraken_origin_replication_missing_copies_total'),
      ),
    );
    expect(missingFound.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });
});
