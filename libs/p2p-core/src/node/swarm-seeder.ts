/**
 * How an origin seeds: on demand, blob by blob. The tracker asks an origin to seed a
 * blob when its swarm has no origin in it; the origin then generates (or finds) the
 * metainfo, joins the swarm as a complete peer and announces itself. A blob nobody
 * asked a piece of for `idleMs` leaves the swarm again, so an origin holding millions
 * of blobs only keeps the swarms of the blobs in demand, at most `maxBlobs` of them.
 */
import type { Clock } from '@kraken/foundation';
import type { Digest } from '@kraken/oci-content';
import type { Metrics } from '@kraken/service-kit';
import type { Metainfo } from '../metainfo/metainfo.js';
import type { Scheduler } from '../scheduler/scheduler-interface.js';
import type { SchedulerLogger } from '../scheduler/scheduler-deps.js';
import type { PieceReader } from '../storage/piece-reader.js';
import { registerSeederMetrics } from './swarm-metrics.js';

export interface SwarmSeederOptions {
  readonly scheduler: Pick<Scheduler, 'seed' | 'status'>;
  /** The blob's metainfo; undefined when this origin does not hold the blob. */
  readonly metainfo: (digest: Digest) => Promise<Metainfo | undefined>;
  readonly readPiece: (metainfo: Metainfo) => PieceReader;
  /**
   * Where this origin's first pass over the blob starts: its share of the blob's owners
   * (see `firstPieceOf`). Default: piece 0.
   */
  readonly firstPiece?: ((metainfo: Metainfo) => number) | undefined;
  /** A seeded blob that uploaded nothing this long leaves its swarm (ms). */
  readonly idleMs: number;
  /** Blobs seeded at once; the least recently active one leaves past it. */
  readonly maxBlobs: number;
  readonly timers: Clock;
  readonly logger: SchedulerLogger;
  /** Registers the `seeded_blobs` gauge on it (swarm-metrics.ts). */
  readonly metrics?: Metrics | undefined;
}

export interface SwarmSeeder {
  /** Joins (or stays in) the blob's swarm; false when this origin does not hold it or is closed. */
  seed(digest: Digest): Promise<boolean>;
  /** Blobs currently seeded. */
  readonly size: number;
  /** Leaves every swarm it joined; idempotent. */
  close(): void;
}

interface Seeded {
  readonly controller: AbortController;
  uploaded: number;
  activeAt: number;
}

export function createSwarmSeeder(options: SwarmSeederOptions): SwarmSeeder {
  const { scheduler, timers } = options;
  // Insertion order is activity order: a touched blob is re-inserted at the end.
  const seeded = new Map<string, Seeded>();
  const pending = new Map<string, Promise<boolean>>();
  let closed = false;
  let sweepHandle: unknown;

  function touch(key: string, entry: Seeded): void {
    entry.activeAt = timers.now();
    seeded.delete(key);
    seeded.set(key, entry);
  }

  function leave(key: string): void {
    const entry = seeded.get(key);
    if (entry === undefined) return;
    seeded.delete(key);
    entry.controller.abort();
    if (seeded.size === 0 && sweepHandle !== undefined) {
      timers.clearTimeout(sweepHandle);
      sweepHandle = undefined;
    }
  }

  function sweep(): void {
    sweepHandle = undefined;
    const now = timers.now();
    for (const [key, entry] of [...seeded]) {
      const uploaded = scheduler.status(key)?.bytesUploaded;
      if (uploaded === undefined) {
        // The scheduler dropped it (closed, or stopped elsewhere).
        seeded.delete(key);
      } else if (uploaded !== entry.uploaded) {
        entry.uploaded = uploaded;
        touch(key, entry);
      } else if (now - entry.activeAt >= options.idleMs) {
        options.logger.debug({ blob: key }, 'seeded blob idle, leaving its swarm');
        leave(key);
      }
    }
    schedule();
  }

  function schedule(): void {
    if (closed || sweepHandle !== undefined || seeded.size === 0) return;
    sweepHandle = timers.setTimeout(sweep, Math.max(1, Math.floor(options.idleMs / 4)));
  }

  async function join(digest: Digest): Promise<boolean> {
    const metainfo = await options.metainfo(digest);
    // Closed meanwhile: saying yes would send peers to an origin that is going away.
    if (metainfo === undefined || closed) return false;
    const existing = seeded.get(digest.value);
    if (existing !== undefined && scheduler.status(digest.value) !== undefined) {
      touch(digest.value, existing);
      return true;
    }
    seeded.delete(digest.value);
    const controller = new AbortController();
    scheduler.seed(metainfo, {
      readPiece: options.readPiece(metainfo),
      firstPiece: options.firstPiece?.(metainfo),
      signal: controller.signal,
    });
    seeded.set(digest.value, { controller, uploaded: 0, activeAt: timers.now() });
    while (seeded.size > options.maxBlobs) leave(seeded.keys().next().value as string);
    schedule();
    return true;
  }

  const seeder: SwarmSeeder = {
    seed(digest) {
      if (closed) return Promise.resolve(false);
      const existing = seeded.get(digest.value);
      if (existing !== undefined && scheduler.status(digest.value) !== undefined) {
        touch(digest.value, existing);
        return Promise.resolve(true);
      }
      const inflight = pending.get(digest.value);
      if (inflight !== undefined) return inflight;
      const job = join(digest).finally(() => pending.delete(digest.value));
      pending.set(digest.value, job);
      return job;
    },
    get size() {
      return seeded.size;
    },
    close() {
      closed = true;
      for (const key of [...seeded.keys()]) leave(key);
    },
  };
  registerSeederMetrics(options.metrics, seeder);
  return seeder;
}

/**
 * The piece the origin ranked `rank` of `owners` sends first: the owners split the first
 * pass into equal stretches, the first owner starting at piece 0 (so a client streaming
 * the blob gets its start early) and each going on round the blob when done. An origin
 * that is not an owner (a stand-in while one is down) has rank -1 and starts at 0.
 */
export function firstPieceOf(pieceCount: number, rank: number, owners: number): number {
  if (rank <= 0 || owners <= 1 || rank >= owners) return 0;
  return Math.floor((rank * pieceCount) / owners);
}
