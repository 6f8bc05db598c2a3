import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageManifest } from '../testing/fixtures.js';
import {
  freePorts,
  replicationSettled,
  startClusterPair,
  startTestCluster,
  type PairRule,
  type TestCluster,
  type TestClusterOptions,
} from '../testing/replication-clusters.js';

let dir: string;
const clusters: TestCluster[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'build-index-replication-'));
});

afterEach(async () => {
  await replicationSettled(clusters).catch(() => {});
  for (const cluster of clusters.splice(0).reverse()) await cluster.close();
  await rm(dir, { recursive: true, force: true });
});

function twoClusters(
  rules: { a?: PairRule[]; b?: PairRule[] },
  extra: { a?: Partial<TestClusterOptions>; b?: Partial<TestClusterOptions> } = {},
): Promise<{ a: TestCluster; b: TestCluster }> {
  return startClusterPair({ dir, rules, ...extra, started: (cluster) => clusters.push(cluster) });
}

const settled = (...all: TestCluster[]) => replicationSettled(all);

function image(name: string, layers = [`layer-of-${name}`]) {
  return imageManifest({ config: `config-of-${name}`, layers });
}

describe('cross-cluster replication', () => {
  it('copies blobs, manifest and tag, the shared layer crossing once', async () => {
    const { a, b } = await twoClusters({ a: [{ name: 'to-b', repositories: 'team/.*', to: 'b' }] });
    const first = image('one', ['shared-layer', 'own-layer-1']);
    await a.push('team/app', 'v1', first);
    await settled(a);
    const remote = b.nodes[0]!.client;
    expect((await remote.getTag('team/app', 'v1'))?.value).toBe(first.digest.value);
    expect((await remote.getManifest('team/app', first.digest))?.digest).toBe(first.digest.value);
    // Config, two layers and the manifest crossed, each once.
    expect([...b.originPuts].sort()).toEqual(
      [...first.blobs.map((blob) => blob.digest.value), first.digest.value].sort(),
    );
    const second = image('two', ['shared-layer', 'own-layer-2']);
    await a.push('team/app', 'v2', second);
    await settled(a);
    expect((await remote.getTag('team/app', 'v2'))?.value).toBe(second.digest.value);
    const shared = first.blobs[1]!.digest.value;
    expect(b.originPuts.filter((d) => d === shared)).toHaveLength(1);
    expect(b.originPuts).toHaveLength(8 - 1);
    // Repositories that match no rule stay home.
    await a.push('other/app', 'v1', image('three'));
    await settled(a);
    expect(await remote.getTag('other/app', 'v1')).toBeUndefined();
  });
  it('replicates to a destination given by its rings rather than discovered', async () => {
    const { a, b } = await twoClusters({});
    const rule = {
      name: 'explicit',
      repositories: '.*',
      destination: { buildIndex: [b.nodes[0]!.url], origins: { nodes: [b.originUrl], replicas: 1 } },
    };
    const created = await a.nodes[0]!.app.inject({
      method: 'POST',
      url: '/v1/replication/rules',
      payload: rule,
    });
    expect(created.statusCode).toBe(201);
    const one = image('one');
    await a.push('app', 'v1', one);
    await settled(a);
    expect((await b.nodes[0]!.client.getTag('app', 'v1'))?.value).toBe(one.digest.value);
    expect(a.nodes[0]!.replication.status().rules[0]!.destination).toEqual({
      key: expect.stringMatching(/^static:/),
      clusterId: 'b',
      buildIndex: [b.nodes[0]!.url],
      origins: { nodes: [b.originUrl], replicas: 1 },
    });
  });
});

describe('tag changes across clusters', () => {
  it('moves a re-pushed tag on the remote, and replicates deletes only for rules with deletes', async () => {
    const { a, b } = await twoClusters({
      a: [
        { name: 'with-deletes', repositories: 'del/.*', deletes: true, to: 'b' },
        { name: 'without-deletes', repositories: 'keep/.*', to: 'b' },
      ],
    });
    const [one, two] = [image('one'), image('two')];
    await a.push('del/app', 'latest', one);
    await a.push('keep/app', 'latest', one);
    await settled(a);
    const remote = b.nodes[0]!.client;
    expect((await remote.getTag('del/app', 'latest'))?.value).toBe(one.digest.value);
    await a.push('del/app', 'latest', two);
    await settled(a);
    expect((await remote.getTag('del/app', 'latest'))?.value).toBe(two.digest.value);

    const local = a.nodes[0]!.client;
    expect(await local.deleteTag('del/app', 'latest')).toBe(true);
    expect(await local.deleteTag('keep/app', 'latest')).toBe(true);
    await settled(a);
    expect(await remote.getTag('del/app', 'latest')).toBeUndefined();
    expect((await remote.getTag('keep/app', 'latest'))?.value).toBe(one.digest.value);
    // The delete arrived as a tombstone carrying the version of the delete on a.
    const listing = (await (await fetch(`${b.nodes[0]!.url}/v1/replication/tags/del%2Fapp`)).json()) as {
      deleted: { tag: string; version: string }[];
    };
    expect(listing.deleted).toEqual([{ tag: 'latest', version: expect.stringMatching(/\.a\./) }]);
  });

  it('converges bidirectional rules without sending a change back where it came from', async () => {
    const { a, b } = await twoClusters({
      a: [{ name: 'to-b', repositories: '.*', to: 'b' }],
      b: [{ name: 'to-a', repositories: '.*', to: 'a' }],
    });
    await Promise.all([a.nodes[0]!.replication.backfill(), b.nodes[0]!.replication.backfill()]);
    const [one, two] = [image('one'), image('two')];
    await a.push('app', 'latest', one);
    await settled(a, b);
    expect((await b.nodes[0]!.client.getTag('app', 'latest'))?.value).toBe(one.digest.value);
    expect(b.nodes[0]!.received).toHaveLength(1);
    expect(a.nodes[0]!.received).toHaveLength(0);

    await b.push('app', 'latest', two);
    await settled(a, b);
    expect((await a.nodes[0]!.client.getTag('app', 'latest'))?.value).toBe(two.digest.value);
    expect(a.nodes[0]!.received).toHaveLength(1);
    expect(b.nodes[0]!.received).toHaveLength(1);
    // One task each way, no more: b knew a's cluster id and queued nothing back.
    const counts = (c: TestCluster) => {
      const { done, skipped } = c.nodes[0]!.replication.status().rules[0]!;
      return { done, skipped };
    };
    expect([counts(a), counts(b)]).toEqual([
      { done: 1, skipped: 0 },
      { done: 1, skipped: 0 },
    ]);
  });

  it('converges concurrent writes of one tag to the same value on both sides', async () => {
    const { a, b } = await twoClusters({
      a: [{ name: 'to-b', repositories: '.*', to: 'b' }],
      b: [{ name: 'to-a', repositories: '.*', to: 'a' }],
    });
    const [one, two] = [image('one'), image('two')];
    await Promise.all([a.push('app', 'latest', one), b.push('app', 'latest', two)]);
    await settled(a, b);
    // Converges: idle queues can still leave a change in flight (a backfill scan is not
    // counted), so both sides are read until they agree, within the poll's timeout.
    const both = async () =>
      Promise.all([
        a.nodes[0]!.cluster.tags.get('app', 'latest'),
        b.nodes[0]!.cluster.tags.get('app', 'latest'),
      ]);
    await expect
      .poll(async () => {
        const [onA, onB] = await both();
        return onA !== undefined && JSON.stringify(onA) === JSON.stringify(onB);
      })
      .toBe(true);
    const [onA, onB] = await both();
    expect(onA).toBeDefined();
    expect(onA).toEqual(onB);
  });

  it('forwards a change along a chain and never back to the cluster that wrote it', async () => {
    const [pa, pb, pc] = (await freePorts(3)) as [number, number, number];
    const at = (port: number) => ({ discover: `http://127.0.0.1:${port}` });
    const start = async (id: string, port: number, to: number) => {
      const cluster = await startTestCluster({
        id,
        dir,
        ports: [port],
        replication: { rules: [{ name: `from-${id}`, repositories: '.*', destination: at(to) }] },
      });
      clusters.push(cluster);
      return cluster;
    };
    const c = await start('c', pc, pa);
    const b = await start('b', pb, pc);
    const a = await start('a', pa, pb);
    const one = image('one');
    await a.push('app', 'v1', one);
    await expect
      .poll(async () => (await c.nodes[0]!.client.getTag('app', 'v1'))?.value)
      .toBe(one.digest.value);
    await settled(a, b, c);
    expect([a, b, c].map((x) => x.nodes[0]!.received.length)).toEqual([0, 1, 1]);
    expect(c.nodes[0]!.received[0]).toMatchObject({ origin: 'a', from: 'b' });
  });
});

describe('versions under clock skew', () => {
  for (const skewMinutes of [5, -5]) {
    it(`lets a later write win when the first cluster's clock is ${skewMinutes} minutes off`, async () => {
      const skewed = () => new Date(Date.now() + skewMinutes * 60_000);
      const { a, b } = await twoClusters(
        {
          a: [{ name: 'to-b', repositories: '.*', to: 'b' }],
          b: [{ name: 'to-a', repositories: '.*', to: 'a' }],
        },
        { a: { now: skewed } },
      );
      const [v1, v2] = [image('v1'), image('v2')];
      await a.push('app', 'latest', v1);
      await settled(a, b);
      expect((await b.nodes[0]!.client.getTag('app', 'latest'))?.value).toBe(v1.digest.value);
      await b.push('app', 'latest', v2);
      await settled(a, b);
      for (const cluster of [a, b])
        expect((await cluster.nodes[0]!.client.getTag('app', 'latest'))?.value).toBe(v2.digest.value);
      const onA = await a.nodes[0]!.cluster.tags.get('app', 'latest');
      const onB = await b.nodes[0]!.cluster.tags.get('app', 'latest');
      expect(onA?.version).toBe(onB?.version);
      expect(onB?.version).toMatch(/\.b\./);
      // Writes that did not see each other still end up the same on both sides.
      await Promise.all([a.push('app', 'latest', image('v3')), b.push('app', 'latest', image('v4'))]);
      await settled(a, b);
      expect(await a.nodes[0]!.cluster.tags.get('app', 'latest')).toEqual(
        await b.nodes[0]!.cluster.tags.get('app', 'latest'),
      );
    });
  }
});

describe('referrers pushed after their tag', () => {
  it('replicates a signature pushed by digest after its image, and sends nothing back', async () => {
    const { a, b } = await twoClusters({
      a: [{ name: 'to-b', repositories: '.*', to: 'b' }],
      b: [{ name: 'to-a', repositories: '.*', to: 'a' }],
    });
    await Promise.all([a.nodes[0]!.replication.backfill(), b.nodes[0]!.replication.backfill()]);
    const subject = image('app');
    await a.push('app', 'v1', subject);
    await settled(a, b);
    expect((await b.nodes[0]!.client.getTag('app', 'v1'))?.value).toBe(subject.digest.value);

    // A signature, pushed by digest like `cosign sign` does: its blobs, then its record.
    const signature = imageManifest({
      config: 'signature-config',
      layers: ['signature-payload'],
      subject,
      artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
    });
    await a.upload(signature);
    const local = a.nodes[0]!.client;
    await local.putManifest('app', {
      digest: signature.digest.value,
      mediaType: signature.mediaType,
      size: signature.bytes.byteLength,
      artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      subject: subject.digest.value,
    });
    await settled(a, b);

    const referrers = await b.nodes[0]!.client.listReferrers('app', subject.digest);
    expect(referrers.map((r) => r.digest)).toEqual([signature.digest.value]);
    const crossed = [...signature.blobs.map((blob) => blob.digest.value), signature.digest.value];
    for (const digest of crossed) expect(b.originPuts).toContain(digest);
    // The image's own blobs did not cross again, and the tag change was a no-op on b.
    expect(b.originPuts).toHaveLength(subject.blobs.length + 1 + crossed.length);
    expect(b.nodes[0]!.received).toHaveLength(2);
    expect((await b.nodes[0]!.cluster.tags.get('app', 'v1'))?.version).toBe(
      (await a.nodes[0]!.cluster.tags.get('app', 'v1'))?.version,
    );
    // Nothing went back to a: b's rule towards a ran no task.
    expect(a.nodes[0]!.received).toHaveLength(0);
    expect(a.originPuts).toHaveLength(subject.blobs.length + 1 + crossed.length); // its own uploads
    const counts = (c: TestCluster) => {
      const { done, skipped } = c.nodes[0]!.replication.status().rules[0]!;
      return { done, skipped };
    };
    expect([counts(a), counts(b)]).toEqual([
      { done: 2, skipped: 0 },
      { done: 0, skipped: 0 },
    ]);
  });
});
