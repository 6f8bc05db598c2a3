import { createHash, randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { mkdtemp, readFile, readdir, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '@kraken/foundation/testing';
import { DigestMismatchError, digestOf, type Digest } from '@kraken/oci-content';
import type { PieceStoreFileSystem } from './bitfield-file.js';
import {
  InvalidMetainfoError,
  InvalidPieceIndexError,
  PartialBlobClosedError,
  PartialBlobIncompleteError,
  PieceNotAvailableError,
  PieceVerificationError,
} from '../errors.js';
import { MIN_PIECE_LENGTH } from '../metainfo/piece-length.js';
import { toMetainfo, type Metainfo } from '../metainfo/metainfo.js';
import { generateMetainfo } from '../metainfo/metainfo-generator.js';
import { createPieceStore } from './piece-store.js';
import { createPieceBufferPool } from '../buffers/piece-buffer-pool.js';
import { WRITE_SLICE_BYTES, type BlobAdopter } from './partial-blob.js';

const PIECE = MIN_PIECE_LENGTH;

function metainfoFor(blob: Buffer, options: { pieceLength?: number; digest?: string } = {}): Metainfo {
  const pieceLength = options.pieceLength ?? PIECE;
  const pieceHashes: string[] = [];
  for (let offset = 0; offset < blob.byteLength; offset += pieceLength) {
    pieceHashes.push(
      createHash('sha256')
        .update(blob.subarray(offset, offset + pieceLength))
        .digest('hex'),
    );
  }
  return toMetainfo({
    digest: options.digest ?? digestOf(blob).value,
    size: blob.byteLength,
    pieceLength,
    pieceHashes,
  });
}

/** A filesystem that counts reads of the files it opened. */
function counting(): { fs: PieceStoreFileSystem; reads: () => number } {
  let reads = 0;
  const fs: PieceStoreFileSystem = {
    ...fsp,
    open: async (...args: Parameters<typeof fsp.open>) => {
      const handle = await fsp.open(...args);
      const read = handle.read.bind(handle) as (...a: unknown[]) => unknown;
      Object.assign(handle, {
        read: (...a: unknown[]) => {
          reads++;
          return read(...a);
        },
      });
      return handle;
    },
  };
  return { fs, reads: () => reads };
}

function pieceOf(blob: Buffer, index: number, pieceLength = PIECE): Buffer {
  return blob.subarray(index * pieceLength, (index + 1) * pieceLength);
}

let work: string;
let partials: string;
let blobs: string;
// Three full pieces and a short last one.
const blob = randomBytes(PIECE * 3 + 1000);
const metainfo = metainfoFor(blob);

function adopter(): BlobAdopter & { adopted: Digest[] } {
  const adopted: Digest[] = [];
  return {
    adopted,
    async adopt(digest, path) {
      await fsp.mkdir(blobs, { recursive: true });
      await rename(path, join(blobs, digest.hex));
      adopted.push(digest);
    },
  };
}

async function filesUnder(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'piece-store-'));
  partials = join(work, 'partial');
  blobs = join(work, 'blobs');
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('piece store', () => {
  it('stores verified pieces in any order, serves them and completes into the destination', async () => {
    const partial = await createPieceStore({ dir: partials }).open(metainfo);
    const hex = digestOf(blob).hex;
    expect((await stat(join(partials, 'sha256', `${hex}.data`))).size).toBe(blob.byteLength);
    for (const index of [3, 0, 2, 1]) {
      expect(await partial.writePiece(index, pieceOf(blob, index))).toBe(true);
    }
    expect((await partial.readPiece(3)).equals(pieceOf(blob, 3))).toBe(true);
    expect(partial.isComplete()).toBe(true);
    // Still under the partial directory only: nothing visible under its digest.
    expect(await filesUnder(blobs)).toEqual([]);

    const destination = adopter();
    await partial.complete(destination);
    expect(destination.adopted.map((d) => d.value)).toEqual([metainfo.digest]);
    expect((await readFile(join(blobs, hex))).equals(blob)).toBe(true);
    expect(await filesUnder(partials)).toEqual([]);
    await expect(partial.writePiece(0, pieceOf(blob, 0))).rejects.toBeInstanceOf(PartialBlobClosedError);
  });

  it('rejects a bad piece with a typed error and leaves the bitfield unchanged', async () => {
    const partial = await createPieceStore({ dir: partials }).open(metainfo);
    const corrupt = Buffer.from(pieceOf(blob, 1));
    corrupt[10] = (corrupt[10] ?? 0) ^ 0xff;
    const hashError = await partial.writePiece(1, corrupt).catch((err: unknown) => err);
    expect(hashError).toBeInstanceOf(PieceVerificationError);
    expect((hashError as PieceVerificationError).reason).toBe('hash');
    expect((hashError as PieceVerificationError).code).toBe('KRAKEN_P2P_BAD_PIECE');
    await expect(partial.writePiece(1, pieceOf(blob, 1).subarray(1))).rejects.toMatchObject({
      reason: 'size',
    });
    await expect(partial.writePiece(4, Buffer.alloc(1))).rejects.toBeInstanceOf(InvalidPieceIndexError);
    expect(partial.has(1)).toBe(false);
    expect(partial.bitfield().count()).toBe(0);
    await expect(partial.readPiece(1)).rejects.toBeInstanceOf(PieceNotAvailableError);
    await partial.close();
    const reopened = await createPieceStore({ dir: partials }).open(metainfo);
    expect(reopened.bitfield().count()).toBe(0);
    await reopened.close();
  });

  it('resumes with its verified pieces after a crash', async () => {
    const crashed = await createPieceStore({ dir: partials }).open(metainfo);
    await crashed.writePiece(0, pieceOf(blob, 0));
    await crashed.writePiece(3, pieceOf(blob, 3));
    await crashed.sync();
    // No close(): a fresh store (as after a restart) must see what sync() promised.
    const resumed = await createPieceStore({ dir: partials }).open(metainfo);
    expect([...resumed.bitfield().present()]).toEqual([0, 3]);
    expect((await resumed.readPiece(0)).equals(pieceOf(blob, 0))).toBe(true);
    await resumed.writePiece(1, pieceOf(blob, 1));
    await resumed.writePiece(2, pieceOf(blob, 2));
    await resumed.complete(adopter());
    expect((await readFile(join(blobs, digestOf(blob).hex))).equals(blob)).toBe(true);
    await crashed.close();
  });

  it('trusts its bitfield within the boot that wrote it, and hashes the claimed pieces again after a reboot', async () => {
    const bootA = () => Promise.resolve('a'.repeat(32));
    const bootB = () => Promise.resolve('b'.repeat(32));
    const crashed = await createPieceStore({ dir: partials, bootId: bootA }).open(metainfo);
    await crashed.writePiece(0, pieceOf(blob, 0));
    await crashed.writePiece(3, pieceOf(blob, 3));
    await crashed.sync();
    await crashed.close();
    // What a power cut may leave: the bitfield reached the disk, piece 3's bytes did not.
    const dataPath = join(partials, 'sha256', `${digestOf(blob).hex}.data`);
    const handle = await fsp.open(dataPath, 'r+');
    await handle.write(Buffer.alloc(1000), 0, 1000, PIECE * 3);
    await handle.close();
    // Same boot: the page cache held every write, the bits stand as written.
    const sameBoot = await createPieceStore({ dir: partials, bootId: bootA }).open(metainfo);
    expect([...sameBoot.bitfield().present()]).toEqual([0, 3]);
    await sameBoot.close();
    // Another boot: only the pieces that still hash right count, and the file says so.
    const rebooted = await createPieceStore({ dir: partials, bootId: bootB }).open(metainfo);
    expect([...rebooted.bitfield().present()]).toEqual([0]);
    await rebooted.close();
    const again = await createPieceStore({ dir: partials, bootId: bootB }).open(metainfo);
    expect([...again.bitfield().present()]).toEqual([0]);
    await again.writePiece(1, pieceOf(blob, 1));
    await again.writePiece(2, pieceOf(blob, 2));
    await again.writePiece(3, pieceOf(blob, 3));
    await again.complete(adopter());
    expect((await readFile(join(blobs, digestOf(blob).hex))).equals(blob)).toBe(true);
  });

  it('hashes the claimed pieces again on every resume when the boot cannot be told', async () => {
    const unknown = () => Promise.resolve(undefined);
    const first = await createPieceStore({ dir: partials, bootId: unknown }).open(metainfo);
    await first.writePiece(1, pieceOf(blob, 1));
    await first.writePiece(2, pieceOf(blob, 2));
    await first.close();
    const dataPath = join(partials, 'sha256', `${digestOf(blob).hex}.data`);
    const handle = await fsp.open(dataPath, 'r+');
    await handle.write(Buffer.from('x'), 0, 1, PIECE * 2 + 7);
    await handle.close();
    const resumed = await createPieceStore({ dir: partials, bootId: unknown }).open(metainfo);
    expect([...resumed.bitfield().present()]).toEqual([1]);
    await resumed.close();
  });

  it('trusts a bitfield of the synced format (KPB1) in any boot', async () => {
    const first = await createPieceStore({ dir: partials }).open(metainfo);
    await first.writePiece(2, pieceOf(blob, 2));
    await first.close();
    const bitfieldPath = join(partials, 'sha256', `${digestOf(blob).hex}.bitfield`);
    const current = await readFile(bitfieldPath);
    // KPB1: no boot id; its pieces were synced before the bits claimed them.
    const bits = current.subarray(4 + 16 + 32 + 4, current.byteLength - 4);
    const legacy = Buffer.concat([
      Buffer.from('KPB1', 'latin1'),
      current.subarray(20, 20 + 32 + 4),
      bits,
      Buffer.alloc(4),
    ]);
    legacy.writeUInt32BE(crc32(legacy.subarray(0, legacy.byteLength - 4)), legacy.byteLength - 4);
    await writeFile(bitfieldPath, legacy);
    const resumed = await createPieceStore({
      dir: partials,
      bootId: () => Promise.resolve('c'.repeat(32)),
    }).open(metainfo);
    expect([...resumed.bitfield().present()]).toEqual([2]);
    await resumed.close();
  });

  it('syncs the data once, after the digest verified and before adoption, and never while pieces arrive', async () => {
    const events: string[] = [];
    let failSync = false;
    const watching: PieceStoreFileSystem = {
      ...fsp,
      open: async (...args: Parameters<typeof fsp.open>) => {
        const handle = await fsp.open(...args);
        for (const name of ['sync', 'datasync'] as const) {
          const original = handle[name].bind(handle);
          Object.assign(handle, {
            [name]: async () => {
              events.push(`${name} ${String(args[0]).split('/').pop()}`);
              if (failSync) throw Object.assign(new Error('EIO: write-back failed'), { code: 'EIO' });
              return original();
            },
          });
        }
        return handle;
      },
    };
    const partial = await createPieceStore({ dir: partials, fs: watching }).open(metainfo);
    for (const index of [3, 1, 0, 2]) await partial.writePiece(index, pieceOf(blob, index));
    await partial.sync();
    expect(events).toEqual([]);
    failSync = true;
    const failing = adopter();
    await expect(partial.complete(failing)).rejects.toThrow('EIO');
    expect(failing.adopted).toEqual([]);
    failSync = false;
    events.length = 0;
    const target: BlobAdopter = {
      async adopt(digest, path) {
        events.push('adopt');
        await fsp.mkdir(blobs, { recursive: true });
        await fsp.link(path, join(blobs, digest.hex));
      },
    };
    await partial.complete(target);
    expect(events).toEqual([`datasync ${digestOf(blob).hex}.data`, 'adopt']);
  });

  it('writes a piece larger than a write slice in slices, each at its own offset', async () => {
    const pieceLength = WRITE_SLICE_BYTES * 4;
    const large = randomBytes(pieceLength * 2 + 5000);
    const info = metainfoFor(large, { pieceLength });
    const writes: { length: number; position: number }[] = [];
    const recording: PieceStoreFileSystem = {
      ...fsp,
      open: async (...args: Parameters<typeof fsp.open>) => {
        const handle = await fsp.open(...args);
        if (!String(args[0]).endsWith('.data')) return handle;
        const original = handle.write.bind(handle) as (...a: unknown[]) => Promise<unknown>;
        Object.assign(handle, {
          write: (...a: unknown[]) => {
            writes.push({ length: a[2] as number, position: a[3] as number });
            return original(...a);
          },
        });
        return handle;
      },
    };
    const partial = await createPieceStore({ dir: partials, fs: recording }).open(info);
    for (const index of [2, 0, 1]) await partial.writePiece(index, pieceOf(large, index, pieceLength));
    expect(Math.max(...writes.map((w) => w.length))).toBe(WRITE_SLICE_BYTES);
    // Piece 2 (5000 bytes) in one write, pieces 0 and 1 in four slices each, back to back.
    expect(writes.filter((w) => w.position < pieceLength).map((w) => w.position)).toEqual(
      [0, 1, 2, 3].map((i) => i * WRITE_SLICE_BYTES),
    );
    expect(writes).toHaveLength(9);
    const destination = adopter();
    await partial.complete(destination);
    expect((await readFile(join(blobs, digestOf(large).hex))).equals(large)).toBe(true);
  });

  it('resets the bitfield when the data file is missing, short or the bitfield is corrupt', async () => {
    const hex = digestOf(blob).hex;
    const dataPath = join(partials, 'sha256', `${hex}.data`);
    const bitfieldPath = join(partials, 'sha256', `${hex}.bitfield`);
    const first = await createPieceStore({ dir: partials }).open(metainfo);
    await first.writePiece(0, pieceOf(blob, 0));
    await first.close();

    await rm(dataPath);
    const afterMissing = await createPieceStore({ dir: partials }).open(metainfo);
    expect(afterMissing.bitfield().count()).toBe(0);
    // Crash right away: the fresh data file is full-size now, so only a persisted reset
    // keeps the next start from trusting the old claim on piece 0.
    const restarted = await createPieceStore({ dir: partials }).open(metainfo);
    expect(restarted.has(0)).toBe(false);
    await restarted.close();
    await afterMissing.close();

    const store = createPieceStore({ dir: partials });
    await (await store.open(metainfo)).close();
    await truncate(dataPath, PIECE);
    const afterShort = await store.open(metainfo);
    expect(afterShort.bitfield().count()).toBe(0);
    expect((await stat(dataPath)).size).toBe(blob.byteLength);
    await afterShort.writePiece(2, pieceOf(blob, 2));
    await afterShort.close();

    const bytes = await readFile(bitfieldPath);
    bytes[bytes.byteLength - 5] = (bytes[bytes.byteLength - 5] ?? 0) ^ 0x01;
    await writeFile(bitfieldPath, bytes);
    const afterCorrupt = await store.open(metainfo);
    expect(afterCorrupt.bitfield().count()).toBe(0);
    await afterCorrupt.close();
  });

  it('ignores a bitfield written for another piece layout of the same blob', async () => {
    const store = createPieceStore({ dir: partials });
    const small = await store.open(metainfo);
    await small.writePiece(0, pieceOf(blob, 0));
    await small.close();
    const larger = metainfoFor(blob, { pieceLength: PIECE * 2 });
    const reopened = await store.open(larger);
    expect(reopened.bitfield().count()).toBe(0);
    await expect(store.open(metainfo)).rejects.toBeInstanceOf(InvalidMetainfoError);
    await reopened.close();
  });

  it('discards the blob and exposes nothing when the whole digest does not verify', async () => {
    // Consistent piece hashes, but the digest of other content: only complete() can tell.
    const lying = metainfoFor(blob, { digest: digestOf('something else').value });
    const partial = await createPieceStore({ dir: partials }).open(lying);
    for (let i = 0; i < 4; i++) await partial.writePiece(i, pieceOf(blob, i));
    const destination = adopter();
    await expect(partial.complete(destination)).rejects.toBeInstanceOf(DigestMismatchError);
    expect(destination.adopted).toEqual([]);
    expect(await filesUnder(blobs)).toEqual([]);
    expect(await filesUnder(partials)).toEqual([]);
    await expect(partial.readPiece(0)).rejects.toBeInstanceOf(PartialBlobClosedError);
  });

  it('lets concurrent complete calls share one verification and adoption', async () => {
    const partial = await createPieceStore({ dir: partials }).open(metainfo);
    await Promise.all([0, 1, 2, 3].map((i) => partial.writePiece(i, pieceOf(blob, i))));
    const destination = adopter();
    await Promise.all([partial.complete(destination), partial.complete(destination)]);
    expect(destination.adopted).toHaveLength(1);
    await expect(partial.complete(destination)).rejects.toBeInstanceOf(PartialBlobClosedError);
  });

  it('refuses to complete while pieces are missing', async () => {
    const partial = await createPieceStore({ dir: partials }).open(metainfo);
    await partial.writePiece(0, pieceOf(blob, 0));
    await expect(partial.complete(adopter())).rejects.toBeInstanceOf(PartialBlobIncompleteError);
    expect(await filesUnder(blobs)).toEqual([]);
    await partial.close();
  });

  it('keeps the partial blob when adopting fails, so a later complete retries', async () => {
    const store = createPieceStore({ dir: partials });
    const partial = await store.open(metainfo);
    await Promise.all([0, 1, 2, 3].map((i) => partial.writePiece(i, pieceOf(blob, i))));
    const failing: BlobAdopter = { adopt: () => Promise.reject(new Error('disk full')) };
    await expect(partial.complete(failing)).rejects.toThrow('disk full');
    const again = await store.open(metainfo);
    expect(again).not.toBe(partial);
    expect(again.isComplete()).toBe(true);
    await again.complete(adopter());
    expect((await readFile(join(blobs, digestOf(blob).hex))).equals(blob)).toBe(true);
  });

  it('treats duplicate writes as idempotent, concurrent or not, but still verifies them', async () => {
    const partial = await createPieceStore({ dir: partials }).open(metainfo);
    const results = await Promise.all([
      partial.writePiece(2, pieceOf(blob, 2)),
      partial.writePiece(2, Buffer.from(pieceOf(blob, 2))),
    ]);
    expect(results.sort()).toEqual([false, true]);
    expect(await partial.writePiece(2, pieceOf(blob, 2))).toBe(false);
    await expect(partial.writePiece(2, Buffer.alloc(PIECE))).rejects.toBeInstanceOf(PieceVerificationError);
    expect(partial.bitfield().count()).toBe(1);
    await partial.close();
  });

  it('writes different pieces concurrently and persists all of them', async () => {
    const bigBlob = randomBytes(PIECE * 12 + 7);
    const bigInfo = metainfoFor(bigBlob);
    const store = createPieceStore({ dir: partials });
    const partial = await store.open(bigInfo);
    const results = await Promise.all(
      bigInfo.pieceHashes.map((_, i) => partial.writePiece(i, pieceOf(bigBlob, i))),
    );
    expect(results.every(Boolean)).toBe(true);
    await partial.sync();
    const resumed = await createPieceStore({ dir: partials }).open(bigInfo);
    expect(resumed.isComplete()).toBe(true);
    await partial.close();
    await resumed.complete(adopter());
    expect((await readFile(join(blobs, digestOf(bigBlob).hex))).equals(bigBlob)).toBe(true);
  });

  it('shares one handle per open blob and waits for writes on close', async () => {
    const store = createPieceStore({ dir: partials });
    const [a, b] = await Promise.all([store.open(metainfo), store.open(metainfo)]);
    expect(a).toBe(b);
    const write = a.writePiece(1, pieceOf(blob, 1));
    await a.close();
    await expect(write).resolves.toBe(true);
    await a.close();
    expect((await store.open(metainfo)).has(1)).toBe(true);
  });

  it('reopens a blob that is still closing only once its writes are done', async () => {
    const store = createPieceStore({ dir: partials });
    const first = await store.open(metainfo);
    const write = first.writePiece(0, pieceOf(blob, 0));
    const closed = first.close();
    const second = await store.open(metainfo);
    expect(second).not.toBe(first);
    expect(second.has(0)).toBe(true);
    await expect(write).resolves.toBe(true);
    await closed;
    await second.writePiece(1, pieceOf(blob, 1));
    expect([...second.bitfield().present()]).toEqual([0, 1]);
    await second.close();
  });

  it('rejects metainfo whose digest could play path tricks, touching nothing', async () => {
    const bad = { ...metainfo, digest: 'sha256:../../../etc/passwd' };
    await expect(createPieceStore({ dir: partials }).open(bad)).rejects.toBeInstanceOf(InvalidMetainfoError);
    expect(await filesUnder(work)).toEqual([]);
  });

  it('lists partial downloads and removes them, open or not', async () => {
    const store = createPieceStore({ dir: partials });
    expect(await store.list()).toEqual([]);
    const other = randomBytes(1000);
    const open = await store.open(metainfo);
    await open.writePiece(0, pieceOf(blob, 0));
    await (await store.open(metainfoFor(other))).close();
    await writeFile(join(partials, 'sha256', 'notes.txt'), 'not ours');
    const listed = (await store.list()).map((d) => d.value).sort();
    expect(listed).toEqual([digestOf(blob).value, digestOf(other).value].sort());

    expect(await store.remove(digestOf(blob))).toBe(true);
    await expect(open.readPiece(0)).rejects.toBeInstanceOf(PartialBlobClosedError);
    expect(await store.remove(digestOf(other))).toBe(true);
    expect(await store.remove(digestOf(other))).toBe(false);
    expect(await store.list()).toEqual([]);
    expect(await filesUnder(partials)).toEqual(['notes.txt']);
    // A forged digest object is parsed again before it names a file.
    await expect(store.remove({ algorithm: 'sha256', hex: '../x', value: 'sha256:../x' })).rejects.toThrow(
      /digest/,
    );
  });

  it('completes an empty blob at once', async () => {
    const empty = metainfoFor(Buffer.alloc(0));
    const partial = await createPieceStore({ dir: partials }).open(empty);
    expect(partial.isComplete()).toBe(true);
    await partial.complete(adopter());
    expect((await readFile(join(blobs, digestOf('').hex))).byteLength).toBe(0);
  });

  it('fails the next write after a failed sync round, once', async () => {
    let failRenames = 0;
    let renameFailed!: () => void;
    const failed = new Promise<void>((resolve) => (renameFailed = resolve));
    const flaky: PieceStoreFileSystem = {
      ...fsp,
      rename: async (from, to) => {
        if (failRenames > 0) {
          failRenames--;
          renameFailed();
          throw Object.assign(new Error('EIO: rename failed'), { code: 'EIO' });
        }
        return fsp.rename(from, to);
      },
    };
    const partial = await createPieceStore({ dir: partials, fs: flaky }).open(metainfo);
    failRenames = 1;
    expect(await partial.writePiece(0, pieceOf(blob, 0))).toBe(true);
    await failed;
    await new Promise((resolve) => setImmediate(resolve));
    await expect(partial.writePiece(2, pieceOf(blob, 2))).rejects.toThrow('EIO');
    expect(await partial.writePiece(3, pieceOf(blob, 3))).toBe(true);
    await partial.sync();
    const resumed = await createPieceStore({ dir: partials }).open(metainfo);
    expect([...resumed.bitfield().present()]).toEqual([0, 3]);
    await resumed.close();
    await partial.close();
  });

  it('does not claim a piece whose bitfield could not be persisted', async () => {
    let failRenames = 0;
    const flaky: PieceStoreFileSystem = {
      ...fsp,
      rename: async (from, to) => {
        if (failRenames > 0) {
          failRenames--;
          throw Object.assign(new Error('EIO: rename failed'), { code: 'EIO' });
        }
        return fsp.rename(from, to);
      },
    };
    const partial = await createPieceStore({ dir: partials, fs: flaky }).open(metainfo);
    failRenames = 1;
    expect(await partial.writePiece(0, pieceOf(blob, 0))).toBe(true);
    await expect(partial.sync()).rejects.toThrow('EIO');
    const afterCrash = await createPieceStore({ dir: partials }).open(metainfo);
    expect(afterCrash.has(0)).toBe(false);
    await afterCrash.close();
    // The next successful round carries the earlier bit along.
    await partial.writePiece(1, pieceOf(blob, 1));
    await partial.sync();
    const resumed = await createPieceStore({ dir: partials }).open(metainfo);
    expect([...resumed.bitfield().present()]).toEqual([0, 1]);
    await resumed.close();
    await partial.close();
  });
  it('serves pieces it was handed from memory, and gives their buffers back as it closes', async () => {
    const { fs, reads } = counting();
    const pool = createPieceBufferPool({ maxPooledBytes: 8 * PIECE });
    const partial = await createPieceStore({
      dir: partials,
      fs,
      buffers: pool,
      recentPieceBytes: 2 * PIECE,
    }).open(metainfo);
    const received = pool.take(PIECE);
    pieceOf(blob, 1).copy(received);
    expect(await partial.writePiece(1, received)).toBe(true);
    partial.keep(1, received);
    const into = Buffer.alloc(PIECE);
    expect((await partial.readPiece(1, into)).equals(pieceOf(blob, 1))).toBe(true);
    expect(reads()).toBe(0);
    // A piece never handed over is read from the data file, into the caller's buffer.
    await partial.writePiece(2, pieceOf(blob, 2));
    const read = await partial.readPiece(2, into);
    expect(read.buffer).toBe(into.buffer);
    expect(read.equals(pieceOf(blob, 2))).toBe(true);
    expect(reads()).toBe(1);
    expect(pool.pooledBytes).toBe(0);
    await partial.close();
    expect(pool.pooledBytes).toBe(PIECE);
    // After closing, a buffer handed over goes straight back.
    const late = pool.take(PIECE);
    partial.keep(3, late);
    expect(pool.pooledBytes).toBe(PIECE);
  });

  it('starts durability rounds at most every syncIntervalMs, and sync() at once', async () => {
    const clock = createManualClock();
    let rounds = 0;
    const counting: PieceStoreFileSystem = {
      ...fsp,
      rename: async (from, to) => {
        rounds++;
        return fsp.rename(from, to);
      },
    };
    const store = createPieceStore({ dir: partials, fs: counting, syncIntervalMs: 1000, clock });
    const partial = await store.open(metainfo);
    const persisted = async () => {
      const other = await createPieceStore({ dir: partials }).open(metainfo);
      const bits = [...other.bitfield().present()];
      await other.close();
      return bits;
    };
    const before = rounds;
    await partial.writePiece(0, pieceOf(blob, 0));
    await clock.advance(0);
    await expect.poll(() => rounds).toBe(before + 1);
    expect(await persisted()).toEqual([0]);
    await partial.writePiece(1, pieceOf(blob, 1));
    await clock.advance(500);
    expect(rounds).toBe(before + 1);
    await clock.advance(500);
    await expect.poll(() => rounds).toBe(before + 2);
    expect(await persisted()).toEqual([0, 1]);
    await partial.writePiece(2, pieceOf(blob, 2));
    await partial.sync();
    expect(rounds).toBe(before + 3);
    expect(await persisted()).toEqual([0, 1, 2]);
    await partial.close();
  });

  describe('with chained piece hashes', () => {
    const chainedFor = (content: Buffer) =>
      generateMetainfo(Readable.from([content]), {
        digest: digestOf(content).value,
        size: content.length,
        pieceLength: PIECE,
      });

    it('completes pieces stored in any order without reading the data file back', async () => {
      const chained = await chainedFor(blob);
      expect(chained.pieceHashing).toBe('sha256-chain');
      const { fs, reads } = counting();
      const partial = await createPieceStore({ dir: partials, fs }).open(chained);
      for (const index of [2, 3, 0, 1])
        expect(await partial.writePiece(index, pieceOf(blob, index))).toBe(true);
      const destination = adopter();
      await partial.complete(destination);
      expect(reads()).toBe(0);
      expect(destination.adopted.map((d) => d.value)).toEqual([chained.digest]);
      expect((await readFile(join(blobs, digestOf(blob).hex))).equals(blob)).toBe(true);
    });

    it("refuses a bad piece, and a piece in another piece's place", async () => {
      const chained = await chainedFor(blob);
      const partial = await createPieceStore({ dir: partials }).open(chained);
      const corrupt = Buffer.from(pieceOf(blob, 1));
      corrupt[0] = (corrupt[0] ?? 0) ^ 0x80;
      await expect(partial.writePiece(1, corrupt)).rejects.toMatchObject({ reason: 'hash' });
      await expect(partial.writePiece(1, pieceOf(blob, 2))).rejects.toMatchObject({ reason: 'hash' });
      expect(partial.bitfield().count()).toBe(0);
      await partial.close();
    });

    it('cannot complete under a forged entry: the piece after it never verifies', async () => {
      const chained = await chainedFor(blob);
      const wrong = Buffer.from(blob);
      wrong.fill(0, PIECE, 2 * PIECE);
      const forged = (await chainedFor(wrong)).pieceHashes[1]!;
      const hostile = toMetainfo({
        ...chained,
        pieceHashes: chained.pieceHashes.map((h, i) => (i === 1 ? forged : h)),
      });
      const partial = await createPieceStore({ dir: partials }).open(hostile);
      expect(await partial.writePiece(0, pieceOf(blob, 0))).toBe(true);
      expect(await partial.writePiece(1, pieceOf(wrong, 1))).toBe(true);
      expect(await partial.writePiece(3, pieceOf(blob, 3))).toBe(true);
      for (const candidate of [pieceOf(blob, 2), pieceOf(wrong, 2)]) {
        await expect(partial.writePiece(2, candidate)).rejects.toMatchObject({ reason: 'hash' });
      }
      await expect(partial.complete(adopter())).rejects.toBeInstanceOf(PartialBlobIncompleteError);
      await partial.close();
    });

    it('checks the claimed pieces again after a reboot, each from its own entry', async () => {
      const chained = await chainedFor(blob);
      const before = await createPieceStore({ dir: partials, bootId: async () => '1'.repeat(32) }).open(
        chained,
      );
      for (const index of [1, 3]) await before.writePiece(index, pieceOf(blob, index));
      await before.sync();
      await before.close();
      // Piece 3 damaged on disk while the machine was down.
      const hex = digestOf(blob).hex;
      const file = await fsp.open(join(partials, 'sha256', `${hex}.data`), 'r+');
      await file.write(Buffer.from([0xff, 0xff]), 0, 2, 3 * PIECE + 10);
      await file.close();
      const after = await createPieceStore({ dir: partials, bootId: async () => '2'.repeat(32) }).open(
        chained,
      );
      expect([...after.bitfield().present()]).toEqual([1]);
      await after.close();
    });
  });
});
