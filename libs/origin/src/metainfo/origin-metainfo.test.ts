import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '@kraken/oci-content';
import {
  MIN_PIECE_LENGTH,
  generateMetainfo,
  metainfoId,
  pieceLengthFor,
  serializeMetainfo,
} from '@kraken/p2p-core';
import type { ContentStore } from '@kraken/storage-backends';
import { request } from 'undici';
import { createOriginClient } from '../client/origin-client.js';
import { createOriginMetainfo } from './origin-metainfo.js';
import { startInProcessOrigin, type InProcessOrigin } from '../testing/in-process-origin.js';

let services: InProcessOrigin | undefined;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await services?.close();
  services = undefined;
});

async function origin() {
  services = await startInProcessOrigin();
  const client = createOriginClient({ url: services.url });
  closers.push(() => client.close());
  return { client, url: services.url };
}

/** A content store over one in-memory blob that counts its reads. */
function memoryStore(bytes: Buffer, digest: Digest) {
  const counts = { reads: 0 };
  const store: Pick<ContentStore, 'stat' | 'read'> = {
    stat: async (d) => (d.value === digest.value ? { size: bytes.length } : undefined),
    read: async () => {
      counts.reads += 1;
      await new Promise((resolve) => setImmediate(resolve));
      return Readable.from([bytes]);
    },
  };
  return { store, counts };
}

describe('origin metainfo endpoint', () => {
  it('generates metainfo by streaming the blob, as the client reads it', async () => {
    const { client, url } = await origin();
    const bytes = randomBytes(600 * 1024);
    const digest = digestOf(bytes);
    await client.putBlob(digest, Readable.from([bytes]), { size: bytes.length });

    const metainfo = await client.getMetainfo(digest);
    expect(metainfo).toEqual(
      await generateMetainfo(Readable.from([bytes]), { digest: digest.value, size: bytes.length }),
    );
    const pieceLength = pieceLengthFor(bytes.length);
    expect(metainfo?.pieceLength).toBe(pieceLength);
    // Chained by default: the last entry is the digest.
    expect(metainfo?.pieceHashing).toBe('sha256-chain');
    expect(metainfo?.pieceHashes).toHaveLength(Math.ceil(bytes.length / pieceLength));
    expect(metainfo?.pieceHashes.at(-1)).toBe(digest.hex);

    const raw = await request(`${url}/v1/blobs/${digest.value}/metainfo`);
    expect(raw.statusCode).toBe(200);
    expect(raw.headers['content-type']).toMatch(/^application\/json/);
    expect(raw.headers.etag).toBe(`"${metainfoId(metainfo!)}"`);
    expect(await raw.body.text()).toBe(serializeMetainfo(metainfo!));
  });

  it('answers not found for an absent blob and 400 for a malformed digest', async () => {
    const { client, url } = await origin();
    expect(await client.getMetainfo(digestOf(Buffer.from('absent')))).toBeUndefined();
    const bad = await request(`${url}/v1/blobs/sha256:..%2Fetc/metainfo`);
    expect(bad.statusCode).toBe(400);
    expect(((await bad.body.json()) as { error: { code: string } }).error.code).toBe('KRAKEN_INVALID_DIGEST');
  });

  it('forgets the metainfo of a deleted blob', async () => {
    const { client } = await origin();
    const bytes = Buffer.from('short-lived');
    const digest = digestOf(bytes);
    await client.putBlob(digest, Readable.from([bytes]), { size: bytes.length });
    expect(await client.getMetainfo(digest)).toBeDefined();
    await client.deleteBlob(digest);
    expect(await client.getMetainfo(digest)).toBeUndefined();
  });
});

describe('origin metainfo generation', () => {
  const bytes = randomBytes(300 * 1024);
  const digest = digestOf(bytes);

  it('reads a blob once for concurrent and later requests', async () => {
    const { store, counts } = memoryStore(bytes, digest);
    const metainfo = createOriginMetainfo({ store });
    const [a, b] = await Promise.all([metainfo.get(digest), metainfo.get(digest)]);
    expect(a).toBe(b);
    expect(await metainfo.get(digest)).toBe(a);
    expect(counts.reads).toBe(1);
    expect(a?.json).toBe(serializeMetainfo(a!.metainfo));
  });

  it('chains the piece hashes of sha256 blobs unless told not to, and never those of sha512 blobs', async () => {
    const pieceLength = pieceLengthFor(bytes.length);
    const plainHashes = Array.from({ length: Math.ceil(bytes.length / pieceLength) }, (_, i) =>
      createHash('sha256')
        .update(bytes.subarray(i * pieceLength, (i + 1) * pieceLength))
        .digest('hex'),
    );
    const chained = await createOriginMetainfo({ store: memoryStore(bytes, digest).store }).get(digest);
    expect(chained?.metainfo.pieceHashing).toBe('sha256-chain');
    const plain = await createOriginMetainfo({
      store: memoryStore(bytes, digest).store,
      pieceHashing: 'sha256',
    }).get(digest);
    expect(plain?.metainfo.pieceHashing).toBeUndefined();
    expect(plain?.metainfo.pieceHashes).toEqual(plainHashes);
    expect(plain?.id).not.toBe(chained?.id);
    const sha512 = digestOf(bytes, 'sha512');
    const long = await createOriginMetainfo({ store: memoryStore(bytes, sha512).store }).get(sha512);
    expect(long?.metainfo.pieceHashing).toBeUndefined();
    expect(long?.metainfo.pieceHashes).toEqual(plainHashes);
  });

  it('prepares the metainfo of a blob just stored that the swarm carries, once', async () => {
    const { store, counts } = memoryStore(bytes, digest);
    const metainfo = createOriginMetainfo({ store });
    metainfo.prepare(digest, bytes.length);
    await expect.poll(() => counts.reads).toBe(1);
    expect((await metainfo.get(digest))?.metainfo.size).toBe(bytes.length);
    expect(counts.reads).toBe(1);
    // A blob of one piece never goes through the swarm: nothing to prepare.
    const small = memoryStore(bytes, digest);
    createOriginMetainfo({ store: small.store }).prepare(digest, MIN_PIECE_LENGTH);
    await new Promise((resolve) => setImmediate(resolve));
    expect(small.counts.reads).toBe(0);
  });

  it('reports a stored blob that no longer matches its digest as a server fault', async () => {
    const { store } = memoryStore(Buffer.alloc(bytes.length), digest);
    const metainfo = createOriginMetainfo({ store });
    const err = await metainfo.get(digest).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/no longer matches its digest/);
    expect((err as { statusCode?: number }).statusCode).toBeUndefined();
  });

  it('hashes a bounded number of blobs at once and turns away a full line', async () => {
    const blobs = [1, 2, 3].map((n) => Buffer.alloc(1000, n));
    let active = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const store: Pick<ContentStore, 'stat' | 'read'> = {
      stat: async (d) => {
        const blob = blobs.find((b) => digestOf(b).value === d.value);
        return blob === undefined ? undefined : { size: blob.length };
      },
      read: async (d) => {
        active += 1;
        peak = Math.max(peak, active);
        await new Promise<void>((resolve) => releases.push(resolve));
        active -= 1;
        return Readable.from([blobs.find((b) => digestOf(b).value === d.value)!]);
      },
    };
    const metainfo = createOriginMetainfo({ store, concurrency: 1, maxQueued: 1 });
    const first = metainfo.get(digestOf(blobs[0]!));
    const second = metainfo.get(digestOf(blobs[1]!));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(metainfo.get(digestOf(blobs[2]!))).rejects.toMatchObject({
      code: 'KRAKEN_METAINFO_BUSY',
      statusCode: 503,
    });
    let done = false;
    const both = Promise.all([first, second]).finally(() => (done = true));
    while (!done) {
      for (const release of releases.splice(0)) release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await both;
    expect(peak).toBe(1);
    expect((await first)?.metainfo.size).toBe(1000);
    expect((await second)?.metainfo.size).toBe(1000);
  });
});
