import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLiveRing, createRingConfigSchema, type RingNode } from '@kraken/hashring';
import { digestOf } from '@kraken/oci-content';
import { readAll } from '@kraken/storage-backends/testing';
import type { OriginNodeClient } from './client-types.js';
import { createOriginRingClient, type OriginRingClient } from './ring-client.js';
import { startTestOrigins, type TestOrigins } from '../testing/ring-fixtures.js';
import { ServiceUnreachableError } from '@kraken/service-kit';

let cluster: TestOrigins | undefined;
let client: OriginRingClient | undefined;
afterEach(async () => {
  await client?.close();
  await cluster?.close();
  cluster = undefined;
  client = undefined;
});

function blob(text: string, times = 1000) {
  const bytes = Buffer.from(text.repeat(times));
  return { bytes, digest: digestOf(bytes) };
}

describe('origin ring client over real origins', () => {
  it('pushes to the owners and reads its own write from each of them', async () => {
    cluster = await startTestOrigins(3, { replicas: 2 });
    const ring = cluster.ring();
    client = createOriginRingClient({ ring });
    const { bytes, digest } = blob('a');
    await client.putBlob(digest, () => Readable.from([bytes]), { size: bytes.length });
    for (const owner of ring.owners(digest.value)) {
      const stat = await cluster.byId(owner.id).store.stat(digest);
      expect(stat).toEqual({ size: bytes.length });
    }
    expect(await client.statBlob(digest)).toEqual({ size: bytes.length });
    expect(await readAll((await client.getBlob(digest))!)).toEqual(bytes);
    const ranged = await client.getBlob(digest, { range: { start: 10, end: 19 } });
    expect(await readAll(ranged!)).toEqual(bytes.subarray(10, 20));
  });

  it('finds a blob held only by the second owner, and says "not found" for a missing one', async () => {
    cluster = await startTestOrigins(3, { replicas: 2 });
    const ring = cluster.ring();
    client = createOriginRingClient({ ring });
    const { bytes, digest } = blob('b');
    const second = ring.owners(digest.value)[1] as RingNode;
    await cluster.byId(second.id).store.write(digest, Readable.from([bytes]));
    expect(await client.statBlob(digest)).toEqual({ size: bytes.length });
    expect(await readAll((await client.getBlob(digest))!)).toEqual(bytes);
    // A 404 is no failure of the node.
    expect(ring.health().every((h) => h.healthy)).toBe(true);

    const missing = blob('zz').digest;
    expect(await client.statBlob(missing)).toBeUndefined();
    expect(await client.getBlob(missing)).toBeUndefined();
    expect(await client.getMetainfo(missing)).toBeUndefined();
  });

  it('fails over when an owner is gone, for reads and re-openable uploads', async () => {
    cluster = await startTestOrigins(3, { replicas: 2 });
    const ring = cluster.ring();
    client = createOriginRingClient({ ring });
    const { bytes, digest } = blob('c');
    const [first] = ring.owners(digest.value) as [RingNode];
    await cluster.byId(first.id).server.close();
    await client.putBlob(digest, () => Readable.from([bytes]), { size: bytes.length });
    expect(await readAll((await client.getBlob(digest))!)).toEqual(bytes);
    expect(ring.isHealthy(first.id)).toBe(false);
    const survivors = cluster.origins.filter((o) => o.id !== first.id);
    for (const origin of survivors) expect(await origin.store.stat(digest)).toEqual({ size: bytes.length });
    await client.ping();
  });
});

describe('chunked uploads over the ring', () => {
  it('keeps a session on the origin that opened it, and the commit lands on the owners', async () => {
    cluster = await startTestOrigins(3, { replicas: 2 });
    const ring = cluster.ring();
    client = createOriginRingClient({ ring });
    const { bytes, digest } = blob('u');
    const id = await client.createUpload();
    expect(
      await client.uploadChunk(id, Readable.from([bytes.subarray(0, 100)]), { start: 0, size: 100 }),
    ).toBe(100);
    const rest = bytes.subarray(100);
    expect(await client.uploadChunk(id, Readable.from([rest]), { start: 100, size: rest.length })).toBe(
      bytes.length,
    );
    expect(await client.uploadOffset(id)).toBe(bytes.length);
    await client.commitUpload(id, digest);
    for (const owner of ring.owners(digest.value)) {
      expect(await cluster.byId(owner.id).store.stat(digest)).toEqual({ size: bytes.length });
    }
    expect(await client.uploadOffset(id)).toBeUndefined();

    const other = await client.createUpload();
    expect(await client.cancelUpload(other)).toBe(true);
    expect(await client.cancelUpload(other)).toBe(false);
    // An id that names no member is no session at all.
    expect(
      await client.uploadOffset(`${other.split('.')[0]!}.${Buffer.from('nobody:1').toString('base64url')}`),
    ).toBe(undefined);
    expect(await client.uploadOffset('garbage')).toBeUndefined();
  });
});

/** A fake origin over a map of blobs; `breakAfter` makes full reads fail part-way. */
function fakeOrigin(blobs: Map<string, Buffer>, breakAfter?: number): OriginNodeClient {
  const unused = () => Promise.reject(new Error('not used'));
  return {
    statBlob: async (digest) => {
      const bytes = blobs.get(digest.value);
      return bytes === undefined ? undefined : { size: bytes.length };
    },
    getBlob: async (digest, options = {}) => {
      const bytes = blobs.get(digest.value);
      if (bytes === undefined) return undefined;
      const part = options.range ? bytes.subarray(options.range.start, options.range.end + 1) : bytes;
      if (breakAfter === undefined) return Readable.from([part]);
      return Readable.from(
        (async function* () {
          yield part.subarray(0, breakAfter);
          throw new ServiceUnreachableError('fake', new Error('socket closed'));
        })(),
      );
    },
    putBlob: unused,
    deleteBlob: unused,
    ping: async () => {},
    close: async () => {},
    createUpload: unused,
    uploadChunk: unused,
    uploadOffset: unused,
    commitUpload: unused,
    cancelUpload: unused,
    getMetainfo: async () => undefined,
    seedBlob: async (digest) =>
      blobs.has(digest.value) ? { peerId: 'p', host: '127.0.0.1', port: 1 } : undefined,
    statUpstream: unused,
    resolveUpstreamTag: unused,
  };
}

function staticRing(nodes: string[], replicas: number) {
  return createLiveRing(
    createRingConfigSchema().parse({ nodes, replicas, health: { active: { enabled: false } } }),
  );
}

describe('origin ring client with fake origins', () => {
  it('resumes a broken read from another owner at the same offset', async () => {
    const { bytes, digest } = blob('0123456789', 100);
    const ring = staticRing(['a:1', 'b:1', 'c:1'], 3);
    const [first] = ring.owners(digest.value) as [RingNode];
    const held = new Map([[digest.value, bytes]]);
    const resumes: number[] = [];
    client = createOriginRingClient({
      ring,
      clientFor: (node) => fakeOrigin(held, node.id === first.id ? 300 : undefined),
      onResume: (event) => resumes.push(event.offset),
    });
    expect(await readAll((await client.getBlob(digest))!)).toEqual(bytes);
    expect(resumes).toEqual([300]);
    const ranged = await client.getBlob(digest, { range: { start: 100, end: 899 } });
    expect(await readAll(ranged!)).toEqual(bytes.subarray(100, 900));
    ring.close();
  });

  it('gives up on a read that breaks on every owner', async () => {
    const { bytes, digest } = blob('x', 1000);
    const ring = staticRing(['a:1', 'b:1'], 2);
    client = createOriginRingClient({
      ring,
      clientFor: () => fakeOrigin(new Map([[digest.value, bytes]]), 10),
    });
    await expect(readAll((await client.getBlob(digest))!)).rejects.toBeInstanceOf(Error);
    ring.close();
  });

  it('asks every healthy owner to seed, and stand-ins when no owner holds the blob', async () => {
    const { bytes, digest } = blob('s');
    const ring = staticRing(['a:1', 'b:1', 'c:1', 'd:1'], 2);
    const order = ring.ranked(digest.value).map((n) => n.id);
    const holding = new Set(order.slice(0, 2));
    client = createOriginRingClient({
      ring,
      clientFor: (node) => fakeOrigin(holding.has(node.id) ? new Map([[digest.value, bytes]]) : new Map()),
    });
    expect(await client.seedOwners(digest)).toHaveLength(2);
    holding.clear();
    holding.add(order[3] as string);
    await client.close();
    client = createOriginRingClient({
      ring,
      clientFor: (node) => fakeOrigin(holding.has(node.id) ? new Map([[digest.value, bytes]]) : new Map()),
    });
    expect(await client.seedOwners(digest)).toHaveLength(1);
    ring.close();
  });
});
