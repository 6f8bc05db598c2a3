import type { Clock } from '@kraken/foundation';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseDigest, type Digest } from '@kraken/oci-content';
import type { Metainfo } from '../metainfo/metainfo.js';
import { MIN_PIECE_LENGTH } from '../metainfo/piece-length.js';
import type { SeedOptions } from '../scheduler/scheduler-interface.js';
import { silentSchedulerLogger } from '../scheduler/scheduler-deps.js';
import type { BlobStatus } from '../scheduler/scheduler-interface.js';
import { createSwarmSeeder, firstPieceOf, type SwarmSeederOptions } from './swarm-seeder.js';

const IDLE_MS = 4_000;

/** Timers on vitest's fake clock. */
const timers: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function metainfoOf(digest: Digest): Metainfo {
  return {
    digest: digest.value,
    size: 2 * MIN_PIECE_LENGTH,
    pieceLength: MIN_PIECE_LENGTH,
    pieceHashes: ['0'.repeat(64), '1'.repeat(64)],
  };
}

const digestOf = (n: number) => parseDigest(`sha256:${n.toString(16).padStart(64, '0')}`);

/** The scheduler's seed/status as the seeder sees them. */
function fakeScheduler() {
  const seeded = new Map<string, { uploaded: number; options: SeedOptions }>();
  const seeds: { digest: string; options: SeedOptions }[] = [];
  return {
    seeds,
    seed(metainfo: Metainfo, options: SeedOptions) {
      seeds.push({ digest: metainfo.digest, options });
      const entry = { uploaded: 0, options };
      seeded.set(metainfo.digest, entry);
      options.signal?.addEventListener('abort', () => {
        if (seeded.get(metainfo.digest) === entry) seeded.delete(metainfo.digest);
      });
    },
    status(key: string): BlobStatus | undefined {
      const entry = seeded.get(key);
      if (entry === undefined) return undefined;
      return {
        metainfoId: `id-${key}`,
        digest: key,
        state: 'seeding',
        piecesDone: 2,
        pieceCount: 2,
        peersConnected: 0,
        bytesFromPeers: 0,
        bytesFromOrigins: 0,
        bytesUploaded: entry.uploaded,
      };
    },
    /** A peer downloads a piece. */
    upload(digest: Digest) {
      const entry = seeded.get(digest.value);
      if (entry !== undefined) entry.uploaded += MIN_PIECE_LENGTH;
    },
    /** The scheduler left the swarm on its own (stop, or its seeding ended). */
    drop(digest: Digest) {
      seeded.delete(digest.value);
    },
    isSeeding: (digest: Digest) => seeded.has(digest.value),
  };
}

function setup(overrides: Partial<SwarmSeederOptions> = {}) {
  const scheduler = fakeScheduler();
  const held = new Set<string>();
  const metainfo = vi.fn((digest: Digest) =>
    Promise.resolve(held.has(digest.value) ? metainfoOf(digest) : undefined),
  );
  const readPiece = vi.fn(() => () => Promise.resolve(new Uint8Array()));
  const seeder = createSwarmSeeder({
    scheduler,
    metainfo,
    readPiece,
    idleMs: IDLE_MS,
    maxBlobs: 10,
    timers,
    logger: silentSchedulerLogger,
    ...overrides,
  });
  const hold = (...digests: Digest[]) => digests.forEach((d) => held.add(d.value));
  return { scheduler, seeder, metainfo, readPiece, hold };
}

describe('createSwarmSeeder', () => {
  it('answers false for a blob this origin does not hold, without joining a swarm', async () => {
    const { seeder, scheduler } = setup();
    expect(await seeder.seed(digestOf(1))).toBe(false);
    expect(scheduler.seeds).toEqual([]);
    expect(seeder.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('joins once for concurrent requests, and stays in without asking again', async () => {
    const { seeder, scheduler, metainfo, readPiece, hold } = setup();
    const a = digestOf(1);
    hold(a);
    expect(await Promise.all([seeder.seed(a), seeder.seed(a), seeder.seed(a)])).toEqual([true, true, true]);
    expect(metainfo).toHaveBeenCalledTimes(1);
    expect(scheduler.seeds).toHaveLength(1);
    expect(scheduler.seeds[0]?.options.readPiece).toBe(readPiece.mock.results[0]?.value);
    expect(readPiece).toHaveBeenCalledWith(metainfoOf(a));
    expect(await seeder.seed(a)).toBe(true);
    expect(metainfo).toHaveBeenCalledTimes(1);
    expect(scheduler.seeds).toHaveLength(1);
    expect(seeder.size).toBe(1);
  });

  it("starts the blob's first pass where firstPiece says, and at piece 0 without it", async () => {
    const { seeder, scheduler, hold } = setup({ firstPiece: (info) => info.pieceHashes.length - 1 });
    hold(digestOf(1));
    await seeder.seed(digestOf(1));
    expect(scheduler.seeds[0]?.options.firstPiece).toBe(1);
    const plain = setup();
    plain.hold(digestOf(2));
    await plain.seeder.seed(digestOf(2));
    expect(plain.scheduler.seeds[0]?.options.firstPiece).toBeUndefined();
  });

  it('splits the first pass between the owners, the first owner starting at piece 0', () => {
    expect([0, 1, 2].map((rank) => firstPieceOf(2048, rank, 3))).toEqual([0, 682, 1365]);
    expect(firstPieceOf(2048, 1, 2)).toBe(1024);
    // A stand-in (not an owner), a lone owner, or a rank out of range start at 0.
    expect(firstPieceOf(2048, -1, 2)).toBe(0);
    expect(firstPieceOf(2048, 0, 1)).toBe(0);
    expect(firstPieceOf(2048, 3, 3)).toBe(0);
  });

  it('leaves a blob nobody downloaded from for idleMs, then stops sweeping', async () => {
    const { seeder, scheduler, hold } = setup();
    const a = digestOf(1);
    hold(a);
    await seeder.seed(a);
    const signal = scheduler.seeds[0]?.options.signal;
    await vi.advanceTimersByTimeAsync(IDLE_MS - 1);
    expect(signal?.aborted).toBe(false);
    expect(seeder.size).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(signal?.aborted).toBe(true);
    expect(scheduler.isSeeding(a)).toBe(false);
    expect(seeder.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps a blob whose pieces are being uploaded', async () => {
    const { seeder, scheduler, hold } = setup();
    const a = digestOf(1);
    hold(a);
    await seeder.seed(a);
    // Uploads seen by the sweep at 3 s and 6 s; idle from then on.
    await vi.advanceTimersByTimeAsync(2_500);
    scheduler.upload(a);
    await vi.advanceTimersByTimeAsync(3_000);
    scheduler.upload(a);
    await vi.advanceTimersByTimeAsync(6_000 + IDLE_MS - 5_500 - 1); // to 9,999 ms
    expect(seeder.size).toBe(1);
    expect(scheduler.isSeeding(a)).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(seeder.size).toBe(0);
    expect(scheduler.isSeeding(a)).toBe(false);
  });

  it('a new request for a seeded blob counts as activity', async () => {
    const { seeder, hold } = setup();
    const a = digestOf(1);
    hold(a);
    await seeder.seed(a);
    await vi.advanceTimersByTimeAsync(3_000);
    await seeder.seed(a);
    await vi.advanceTimersByTimeAsync(IDLE_MS - 1);
    expect(seeder.size).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(seeder.size).toBe(0);
  });

  it('past maxBlobs, the least recently active blob leaves', async () => {
    const { seeder, scheduler, hold } = setup({ maxBlobs: 2 });
    const [a, b, c, d] = [digestOf(1), digestOf(2), digestOf(3), digestOf(4)];
    hold(a, b, c, d);
    await seeder.seed(a);
    await seeder.seed(b);
    // a asked for again: b is now the least recently active.
    await seeder.seed(a);
    await seeder.seed(c);
    expect(seeder.size).toBe(2);
    expect([a, b, c].map((x) => scheduler.isSeeding(x))).toEqual([true, false, true]);
    // Uploads of a, seen by a sweep, make c the least recently active.
    scheduler.upload(a);
    await vi.advanceTimersByTimeAsync(IDLE_MS / 4);
    await seeder.seed(d);
    expect([a, b, c, d].map((x) => scheduler.isSeeding(x))).toEqual([true, false, false, true]);
    expect(scheduler.seeds.map((s) => s.options.signal?.aborted)).toEqual([false, true, true, false]);
  });

  it('joins again when the scheduler dropped the blob', async () => {
    const { seeder, scheduler, metainfo, hold } = setup();
    const a = digestOf(1);
    hold(a);
    await seeder.seed(a);
    scheduler.drop(a);
    expect(await seeder.seed(a)).toBe(true);
    expect(metainfo).toHaveBeenCalledTimes(2);
    expect(scheduler.seeds).toHaveLength(2);
    expect(scheduler.isSeeding(a)).toBe(true);
    // Dropped again and found so by the sweep: forgotten without waiting for idleMs.
    scheduler.drop(a);
    await vi.advanceTimersByTimeAsync(IDLE_MS / 4);
    expect(seeder.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close leaves every swarm, is idempotent, and refuses later requests', async () => {
    const { seeder, scheduler, hold } = setup();
    const [a, b, c] = [digestOf(1), digestOf(2), digestOf(3)];
    hold(a, b, c);
    await seeder.seed(a);
    await seeder.seed(b);
    // A request in flight when the seeder closes does not join.
    const late = seeder.seed(c);
    seeder.close();
    seeder.close();
    expect(await late).toBe(false);
    expect(await seeder.seed(a)).toBe(false);
    expect(seeder.size).toBe(0);
    expect(scheduler.seeds.map((s) => [s.digest, s.options.signal?.aborted])).toEqual([
      [a.value, true],
      [b.value, true],
    ]);
    expect(vi.getTimerCount()).toBe(0);
    await flush();
  });
});
