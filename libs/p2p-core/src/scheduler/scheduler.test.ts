import { systemClock, type Clock } from '@kraken/foundation';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { digestOf } from '@kraken/oci-content';
import { createConnManager } from '../conn/conn-manager.js';
import { generateMetainfo } from '../metainfo/metainfo-generator.js';
import { pieceRange, type Metainfo } from '../metainfo/metainfo.js';
import { createPieceStore } from '../storage/piece-store.js';
import { createScheduler } from './scheduler.js';
import { type Scheduler } from './scheduler-interface.js';
import { SwarmStoppedError } from './scheduler-errors.js';
import { createTokenBucket } from '../conn/token-bucket.js';
import { schedulerLimitsSchema } from './scheduler-config.js';
import { type SchedulerAnnouncer, type SchedulerLogger } from './scheduler-deps.js';
import { DEFAULT_SCHEDULER_LIMITS } from './scheduler-limits.js';
import type { PieceReader } from '../storage/piece-reader.js';
import { memoryTracker } from '../testing/memory-tracker.js';

const PIECE = 256 * 1024;
const SIZE = 32 * PIECE; // 8 MiB, 32 pieces

interface Node {
  readonly peerId: string;
  readonly scheduler: Scheduler;
  readonly dir: string;
  readonly warnings: string[];
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let nextId = 0;
async function node(
  tracker: SchedulerAnnouncer,
  origin = false,
  timers?: Clock,
  reuseDir?: string,
): Promise<Node> {
  const peerId = (++nextId).toString(16).padStart(40, '0');
  const dir = reuseDir ?? (await mkdtemp(join(tmpdir(), 'kraken-scheduler-')));
  await mkdir(join(dir, 'done'), { recursive: true });
  const warnings: string[] = [];
  const logger: SchedulerLogger = {
    debug() {},
    info: (_obj, msg) => warnings.push(msg),
    warn: (_obj, msg) => warnings.push(msg),
  };
  const scheduler = createScheduler({
    local: { clusterId: 'test', peerId, host: '127.0.0.1', port: 0, origin },
    connections: ({ onEvent, handshakeBlobs }) =>
      createConnManager({
        local: { clusterId: 'test', peerId },
        onEvent,
        handshakeBlobs,
        // Throttled egress with a high-water mark below one piece: pieces queue for
        // tokens, send() reports backpressure, and uploads resume on 'drain'.
        config: { highWaterMarkBytes: 64 * 1024 },
        egress: createTokenBucket({ rate: 64 * 1024 * 1024, burst: PIECE }),
      }),
    pieceStore: createPieceStore({ dir: join(dir, 'partial') }),
    announcer: tracker,
    limits: { announceIntervalMs: 200, tickMs: 100 },
    logger,
    ...(timers === undefined ? {} : { timers }),
  });
  cleanups.push(async () => {
    await scheduler.close();
    await rm(dir, { recursive: true, force: true });
  });
  await scheduler.listen({ host: '127.0.0.1', port: 0 });
  return { peerId, scheduler, dir, warnings };
}

async function testBlob(): Promise<{ data: Buffer; metainfo: Metainfo }> {
  const data = randomBytes(SIZE);
  const metainfo = await generateMetainfo(Readable.from([data]), {
    digest: digestOf(data).value,
    size: SIZE,
    pieceLength: PIECE,
  });
  return { data, metainfo };
}

function reader(data: Buffer, metainfo: Metainfo, corrupt = false): PieceReader {
  return (index) => {
    const { offset, length } = pieceRange(metainfo, index);
    const piece = Buffer.from(data.subarray(offset, offset + length));
    if (corrupt) piece[0] = (piece[0] ?? 0) ^ 0xff;
    return Promise.resolve(piece);
  };
}

/** Downloads into `<dir>/done` and resolves with the sha256 of the adopted file. */
async function download(n: Node, metainfo: Metainfo, readPiece?: PieceReader): Promise<string> {
  const target = join(n.dir, 'done', 'blob');
  await n.scheduler.download(metainfo, {
    adopter: { adopt: (_digest, path) => rename(path, target) },
    ...(readPiece === undefined ? {} : { readPiece }),
  });
  return `sha256:${createHash('sha256')
    .update(await readFile(target))
    .digest('hex')}`;
}

describe('Scheduler', () => {
  it('one seeder and five leechers each end with a verified copy', async () => {
    const tracker = memoryTracker();
    const { data, metainfo } = await testBlob();
    const seeder = await node(tracker, true);
    seeder.scheduler.seed(metainfo, { readPiece: reader(data, metainfo) });
    const leechers = await Promise.all([1, 2, 3, 4, 5].map(() => node(tracker)));
    const digests = await Promise.all(leechers.map((l) => download(l, metainfo, reader(data, metainfo))));
    expect(digests).toEqual(leechers.map(() => metainfo.digest));
    for (const leecher of leechers) {
      const status = leecher.scheduler.status(metainfo.digest);
      expect(status).toMatchObject({ state: 'seeding', piecesDone: 32, pieceCount: 32 });
      expect((status?.bytesFromPeers ?? 0) + (status?.bytesFromOrigins ?? 0)).toBeGreaterThanOrEqual(SIZE);
    }
    const seederStatus = seeder.scheduler.status(metainfo.digest);
    expect(seederStatus?.bytesUploaded).toBeGreaterThanOrEqual(SIZE);
    // Leechers traded among themselves: the origin served fewer than five copies, and
    // every byte a leecher counted from origins came from it.
    const uploaded = seederStatus?.bytesUploaded ?? 0;
    expect(uploaded).toBeLessThan(5 * SIZE);
    const fromOrigins = leechers.reduce(
      (sum, l) => sum + (l.scheduler.status(metainfo.digest)?.bytesFromOrigins ?? 0),
      0,
    );
    expect(fromOrigins).toBeGreaterThanOrEqual(SIZE);
    expect(fromOrigins).toBeLessThanOrEqual(uploaded);
  }, 20_000);

  it('blacklists a peer that serves corrupt pieces and still completes', async () => {
    const tracker = memoryTracker();
    const { data, metainfo } = await testBlob();
    const hostile = await node(tracker);
    hostile.scheduler.seed(metainfo, { readPiece: reader(data, metainfo, true) });
    const seeder = await node(tracker, true);
    seeder.scheduler.seed(metainfo, { readPiece: reader(data, metainfo) });
    const leechers = await Promise.all([1, 2, 3].map(() => node(tracker)));
    const digests = await Promise.all(leechers.map((l) => download(l, metainfo)));
    expect(digests).toEqual(leechers.map(() => metainfo.digest));
    const hostileSent = hostile.scheduler.status(metainfo.digest)?.bytesUploaded ?? 0;
    expect(hostileSent).toBeGreaterThan(0);
    const warned = leechers.filter((l) =>
      l.warnings.includes('peer sent a bad piece; blacklisted for this blob'),
    );
    expect(warned.length).toBeGreaterThan(0);
    // Blacklisted after its first bad piece: at most a pipeline's worth per leecher.
    expect(hostileSent).toBeLessThanOrEqual(leechers.length * 4 * PIECE);
  }, 20_000);

  it('a seeder that disconnects mid-transfer does not stop the others', async () => {
    const tracker = memoryTracker();
    const { data, metainfo } = await testBlob();
    const steady = await node(tracker, true);
    steady.scheduler.seed(metainfo, { readPiece: reader(data, metainfo) });
    // An agent seeding a blob it completed: it serves whatever is asked, where an origin
    // offers only two pieces per peer at a time and might finish before quitting.
    const quitter = await node(tracker, false);
    const serve = reader(data, metainfo);
    let served = 0;
    quitter.scheduler.seed(metainfo, {
      readPiece: (index) => {
        // Gone after a few pieces, with requests of several leechers in flight.
        if (++served === 6) void quitter.scheduler.close();
        return serve(index);
      },
    });
    const leechers = await Promise.all([1, 2, 3, 4].map(() => node(tracker)));
    const digests = await Promise.all(leechers.map((l) => download(l, metainfo)));
    expect(digests).toEqual(leechers.map(() => metainfo.digest));
    expect(served).toBeGreaterThanOrEqual(6);
    expect(quitter.scheduler.list()).toEqual([]);
  }, 20_000);

  it('moves requests of a stalled peer elsewhere once they time out', async () => {
    const tracker = memoryTracker();
    const { data, metainfo } = await testBlob();
    let requested = 0;
    const staller = await node(tracker, true);
    staller.scheduler.seed(metainfo, {
      readPiece: () => {
        requested++;
        return new Promise<Uint8Array>(() => undefined);
      },
    });
    // The leecher's clock is ahead by `skew`: that is how the test makes requests time out.
    let skew = 0;
    const leecher = await node(tracker, false, {
      ...systemClock,
      now: () => performance.now() + skew,
    });
    const done = download(leecher, metainfo);
    await until(() => requested >= 1);
    expect(leecher.warnings).not.toContain('peer stalled on requests; moved them elsewhere');
    skew += 16_000;
    await until(() => leecher.warnings.includes('peer stalled on requests; moved them elsewhere'));
    const seeder = await node(tracker, true);
    seeder.scheduler.seed(metainfo, { readPiece: reader(data, metainfo) });
    expect(await done).toBe(metainfo.digest);
    expect(staller.scheduler.status(metainfo.digest)?.bytesUploaded).toBe(0);
  }, 20_000);

  it('shares one download between concurrent callers', async () => {
    const tracker = memoryTracker();
    const { data, metainfo } = await testBlob();
    const seeder = await node(tracker, true);
    seeder.scheduler.seed(metainfo, { readPiece: reader(data, metainfo) });
    const leecher = await node(tracker);
    const first = download(leecher, metainfo);
    let adopted = 0;
    const second = leecher.scheduler.download(metainfo, {
      adopter: {
        adopt: () => {
          adopted++;
          return Promise.resolve();
        },
      },
    });
    expect(leecher.scheduler.list()).toHaveLength(1);
    await Promise.all([first, second]);
    expect(await first).toBe(metainfo.digest);
    // The first caller's adopter took the blob; the second caller joined that download.
    expect(adopted).toBe(0);
    expect(seeder.scheduler.status(metainfo.digest)?.bytesUploaded).toBeLessThanOrEqual(SIZE + 4 * PIECE);
  }, 20_000);

  it('hands out pieces while the blob downloads, in order, to a reader that waits for them', async () => {
    const tracker = memoryTracker();
    const { data, metainfo } = await testBlob();
    const leecher = await node(tracker);
    const downloading = download(leecher, metainfo, reader(data, metainfo));
    // Nobody seeds yet: the reader waits for piece 0 instead of failing.
    const pieces: Promise<Uint8Array>[] = [];
    for (let i = 0; i < metainfo.pieceHashes.length; i++)
      pieces.push(leecher.scheduler.readPiece(metainfo.digest, i));
    const seeder = await node(tracker, true);
    seeder.scheduler.seed(metainfo, { readPiece: reader(data, metainfo) });
    const received = Buffer.concat(await Promise.all(pieces));
    expect(received.equals(data)).toBe(true);
    expect(await downloading).toBe(metainfo.digest);
    await expect(leecher.scheduler.readPiece(metainfo.digest, metainfo.pieceHashes.length)).rejects.toThrow(
      /outside/,
    );
    await expect(leecher.scheduler.readPiece(`sha256:${'0'.repeat(64)}`, 0)).rejects.toBeInstanceOf(
      SwarmStoppedError,
    );
  }, 20_000);

  it('rejects readers waiting for pieces when the download stops', async () => {
    const tracker = memoryTracker();
    const { metainfo } = await testBlob();
    const leecher = await node(tracker);
    const controller = new AbortController();
    const downloading = leecher.scheduler.download(metainfo, {
      adopter: { adopt: () => Promise.resolve() },
      signal: controller.signal,
    });
    const waiting = leecher.scheduler.readPiece(metainfo.digest, 3);
    controller.abort(new Error('caller gone'));
    await expect(downloading).rejects.toThrow('caller gone');
    await expect(waiting).rejects.toBeInstanceOf(SwarmStoppedError);
  });

  it('drops peers that stay idle, then their connections', async () => {
    const tracker = memoryTracker();
    const { data, metainfo } = await testBlob();
    let skew = 0;
    const seeder = await node(tracker, true, {
      ...systemClock,
      now: () => performance.now() + skew,
    });
    seeder.scheduler.seed(metainfo, { readPiece: reader(data, metainfo) });
    const leecher = await node(tracker);
    // Without a reader the finished leecher leaves the swarm, but stays connected.
    expect(await download(leecher, metainfo)).toBe(metainfo.digest);
    expect(seeder.scheduler.status(metainfo.digest)?.peersConnected).toBe(1);
    skew += 61_000;
    await until(() => seeder.scheduler.status(metainfo.digest)?.peersConnected === 0);
  }, 20_000);

  it('resumes a download from the verified pieces of a closed scheduler', async () => {
    const tracker = memoryTracker();
    const { data, metainfo } = await testBlob();
    const serve = reader(data, metainfo);
    let served = 0;
    const first = await node(tracker, true);
    first.scheduler.seed(metainfo, {
      // Serves ten pieces, then nothing: the download stops part way.
      readPiece: (index) => (++served <= 10 ? serve(index) : new Promise<Uint8Array>(() => undefined)),
    });
    const before = await node(tracker);
    const stopped = download(before, metainfo).then(
      () => undefined,
      (err: unknown) => err,
    );
    await until(() => (before.scheduler.status(metainfo.digest)?.piecesDone ?? 0) >= 10);
    await first.scheduler.close();
    await before.scheduler.close();
    expect(await stopped).toMatchObject({ code: 'KRAKEN_P2P_SWARM_STOPPED' });

    const second = await node(tracker, true);
    second.scheduler.seed(metainfo, { readPiece: serve });
    const after = await node(tracker, false, undefined, before.dir);
    expect(await download(after, metainfo)).toBe(metainfo.digest);
    expect(second.scheduler.status(metainfo.digest)?.bytesUploaded).toBeLessThanOrEqual(SIZE - 10 * PIECE);
  }, 20_000);

  it('stops a download once its only caller aborts, and rejects bad metainfo', async () => {
    const tracker = memoryTracker();
    const { metainfo } = await testBlob();
    const leecher = await node(tracker);
    const controller = new AbortController();
    const adopter = { adopt: () => Promise.resolve() };
    const pending = leecher.scheduler.download(metainfo, { adopter, signal: controller.signal });
    expect(leecher.scheduler.status(metainfo.digest)?.state).toBe('downloading');
    controller.abort(new Error('caller gave up'));
    await expect(pending).rejects.toThrow('caller gave up');
    expect(leecher.scheduler.status(metainfo.digest)).toBeUndefined();
    await expect(
      leecher.scheduler.download({ ...metainfo, pieceLength: 3 }, { adopter }),
    ).rejects.toMatchObject({ code: 'KRAKEN_P2P_INVALID_METAINFO' });
  });
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

describe('schedulerLimitsSchema', () => {
  it('fills in the default limits and rejects unknown keys', () => {
    expect(schedulerLimitsSchema.parse({})).toEqual(DEFAULT_SCHEDULER_LIMITS);
    expect(() => schedulerLimitsSchema.parse({ pipelineDepth: 0 })).toThrow();
    expect(() => schedulerLimitsSchema.parse({ pipelinedepth: 4 })).toThrow();
  });
});

describe('Swarm on loopback', () => {
  it('one origin and twenty agents each end with a verified copy of a 64 MiB blob, the origin sending a fraction', async () => {
    const size = 256 * PIECE; // 64 MiB in 256 pieces
    const data = randomBytes(size);
    const metainfo = await generateMetainfo(Readable.from([data]), {
      digest: digestOf(data).value,
      size,
      pieceLength: PIECE,
    });
    const tracker = memoryTracker();
    const origin = await node(tracker, true);
    origin.scheduler.seed(metainfo, { readPiece: reader(data, metainfo) });
    const agents = await Promise.all(Array.from({ length: 20 }, () => node(tracker)));
    const digests = await Promise.all(agents.map((a) => download(a, metainfo)));
    expect(new Set(digests)).toEqual(new Set([metainfo.digest]));
    const uploaded = origin.scheduler.status(metainfo.digest)?.bytesUploaded ?? Infinity;
    // A central registry would send 20 copies; the agents must carry most of them between themselves.
    expect(uploaded).toBeLessThan(10 * size);
  }, 120_000);
});
