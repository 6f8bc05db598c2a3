import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { digestOf } from '@kraken/oci-content';
import { createOriginClient } from '../client/origin-client.js';
import { startTestOrigins, type TestOrigins } from '../testing/ring-fixtures.js';
import { ReplicationQuorumError } from '../errors.js';

let cluster: TestOrigins | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

function blob(text: string) {
  const bytes = Buffer.from(text.repeat(1000));
  return { bytes, digest: digestOf(bytes) };
}

async function holders(c: TestOrigins, digest: ReturnType<typeof digestOf>): Promise<string[]> {
  const found: string[] = [];
  for (const origin of c.origins) if ((await origin.store.stat(digest)) !== undefined) found.push(origin.id);
  return found.sort();
}

async function metric(c: TestOrigins, id: string, name: string): Promise<string> {
  return (await c.byId(id).metrics.registry.metrics())
    .split('\n')
    .filter((l) => l.startsWith(name))
    .join('\n');
}

describe('origin replication on write', () => {
  it('stores an upload on every owner before answering, and no copy elsewhere', async () => {
    cluster = await startTestOrigins(4, { replicas: 3 });
    const { bytes, digest } = blob('a');
    const owners = cluster
      .ring()
      .owners(digest.value)
      .map((n) => n.id);
    const primary = cluster.byId(owners[0] as string);
    const client = createOriginClient({ url: primary.url });
    await client.putBlob(digest, Readable.from([bytes]), { size: bytes.length });
    await client.close();
    expect(await holders(cluster, digest)).toEqual([...owners].sort());
  });

  it('carries the namespace of the write to the copies', async () => {
    cluster = await startTestOrigins(3, { replicas: 3 });
    const { bytes, digest } = blob('n');
    const client = createOriginClient({ url: cluster.origins[0]!.url });
    await client.putBlob(digest, Readable.from([bytes]), { size: bytes.length, namespace: 'team/app' });
    await client.close();
    for (const origin of cluster.origins) expect(origin.namespaces).toEqual(['team/app']);
  });

  it('stores a replica without copying it on', async () => {
    cluster = await startTestOrigins(3, { replicas: 3 });
    const { bytes, digest } = blob('b');
    const client = createOriginClient({ url: cluster.origins[0]!.url });
    await client.putBlob(digest, Readable.from([bytes]), { size: bytes.length, replica: true });
    await client.close();
    expect(await holders(cluster, digest)).toEqual([cluster.origins[0]!.id]);
  });

  it('lets a healthy node stand in for a down owner, and the sweep heals the owner later', async () => {
    cluster = await startTestOrigins(3, { replicas: 2 });
    const { bytes, digest } = blob('c');
    const [first, second] = cluster
      .ring()
      .owners(digest.value)
      .map((n) => n.id) as [string, string];
    const standIn = cluster.nodes.find((id) => id !== first && id !== second) as string;
    cluster.setHealthy(second, false);
    const client = createOriginClient({ url: cluster.byId(first).url });
    await client.putBlob(digest, Readable.from([bytes]), { size: bytes.length });
    await client.close();
    expect(await holders(cluster, digest)).toEqual([first, standIn].sort());

    cluster.setHealthy(second, true);
    const report = await cluster.byId(first).replication.sweep();
    expect(report).toMatchObject({ checked: 1, missing: 1, replicated: 1, failed: 0 });
    expect(await holders(cluster, digest)).toEqual(cluster.nodes.slice().sort());
    expect(await metric(cluster, first, 'kraken_origin_replication_blobs_rereplicated_total')).toMatch(/ 1$/);
    expect(await metric(cluster, first, 'kraken_origin_replication_missing_copies_total')).toMatch(/ 1$/);
    // The stand-in's sweep finds both owners complete: nothing more to copy.
    expect(await cluster.byId(standIn).replication.sweep()).toMatchObject({ checked: 1, missing: 0 });
  });

  it('refuses an upload when too few origins could take a copy', async () => {
    cluster = await startTestOrigins(2, { replicas: 2 });
    const { bytes, digest } = blob('d');
    const [first, second] = cluster
      .ring()
      .owners(digest.value)
      .map((n) => n.id) as [string, string];
    cluster.setHealthy(second, false);
    const client = createOriginClient({ url: cluster.byId(first).url });
    const put = client.putBlob(digest, Readable.from([bytes]), { size: bytes.length });
    await expect(put).rejects.toMatchObject({
      code: new ReplicationQuorumError('x', 1, 2).code,
      statusCode: 503,
    });
    await client.close();
    // The accepted copy stays: the sweep takes it to the owner once it is back.
    expect(await holders(cluster, digest)).toEqual([first]);
    cluster.setHealthy(second, true);
    await cluster.byId(first).replication.sweep();
    expect(await holders(cluster, digest)).toEqual([first, second].sort());
  });

  it('an origin that is not an owner hands the blob to every owner', async () => {
    cluster = await startTestOrigins(3, { replicas: 1 });
    const { bytes, digest } = blob('e');
    const [owner] = cluster
      .ring()
      .owners(digest.value)
      .map((n) => n.id) as [string];
    const other = cluster.nodes.find((id) => id !== owner) as string;
    const client = createOriginClient({ url: cluster.byId(other).url });
    await client.putBlob(digest, Readable.from([bytes]), { size: bytes.length });
    await client.close();
    expect(await holders(cluster, digest)).toEqual([owner, other].sort());
  });
});

describe('replication sweep', () => {
  it('copies every local blob to owners that lack it, and nothing twice', async () => {
    cluster = await startTestOrigins(3, { replicas: 3, replication: { concurrency: 2 } });
    const source = cluster.origins[0]!;
    const blobs = ['f', 'g', 'h', 'i', 'j'].map(blob);
    // Written straight into one store, as after a restore or a member joining.
    for (const { bytes, digest } of blobs) await source.store.write(digest, Readable.from([bytes]));
    expect(await source.replication.sweep()).toMatchObject({
      checked: 5,
      missing: 10,
      replicated: 5,
      failed: 0,
    });
    for (const { digest } of blobs)
      expect(await holders(cluster, digest)).toEqual(cluster.nodes.slice().sort());
    expect(await source.replication.sweep()).toMatchObject({ checked: 5, missing: 0, replicated: 0 });
  });

  it('skips owners believed down and reports them as failed', async () => {
    cluster = await startTestOrigins(2, { replicas: 2 });
    const [a, b] = cluster.origins as [TestOrigins['origins'][number], TestOrigins['origins'][number]];
    const { bytes, digest } = blob('k');
    await a.store.write(digest, Readable.from([bytes]));
    cluster.setHealthy(b.id, false);
    expect(await a.replication.sweep()).toMatchObject({ checked: 1, missing: 0, failed: 1 });
    expect(await b.store.stat(digest)).toBeUndefined();
  });
});
