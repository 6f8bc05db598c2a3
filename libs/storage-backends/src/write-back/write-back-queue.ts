/**
 * The origin's durable write-back queue: one SQLite table (node:sqlite, WAL, fsync on
 * commit) of blobs accepted locally but not yet stored in the backend. A job is
 * inserted before the upload is acknowledged and deleted only after the backend write
 * succeeded, so a crash at any point leaves the job to be resumed on the next start.
 *
 * Jobs are dispatched by one synchronous loop (`pump`), at most `concurrency` at a
 * time, due jobs oldest first. A failure schedules a retry after an exponential
 * backoff with jitter, capped at `maxMs`. A job whose local copy vanished, or that ran
 * out of attempts, becomes `failed`: it stays in the table (loudly logged) until an
 * operator deals with it, because dropping it would silently lose the blob.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLOutputValue } from 'node:sqlite';
import { backoffDelay, createDueTimer, type Clock } from '@kraken/foundation';
import { parseDigest, type Digest } from '@kraken/oci-content';
import { WriteBackSourceMissingError } from '../errors.js';
import { silentStoreLogger, type StoreLogger } from './store-logger.js';

export type WriteBackState = 'pending' | 'failed';

export interface WriteBackJob {
  readonly digest: Digest;
  /** The repository the blob was pushed to, for namespace routing; undefined if not given. */
  readonly namespace: string | undefined;
  readonly state: WriteBackState;
  readonly attempts: number;
  /** Milliseconds since the epoch. */
  readonly enqueuedAt: number;
  readonly nextAttemptAt: number;
  readonly lastError: string | undefined;
}

/** How a write-back attempt ended. */
export type WriteBackResult = 'success' | 'retry' | 'failed';

export interface WriteBackBackoff {
  /** Delay before the first retry (ms). */
  readonly initialMs: number;
  /** Upper bound of any delay (ms). */
  readonly maxMs: number;
  readonly multiplier: number;
  /** Fraction of each delay taken off at random, so retries of many jobs spread out (0..1). */
  readonly jitter: number;
}

/**
 * Time and timers, injected so tests drive retries with a fake clock. `now()` must be
 * wall-clock milliseconds since the epoch: due times are stored in the table and
 * compared by the next process.
 */
export type QueueClock = Clock;

export interface WriteBackQueueOptions {
  /** The SQLite file; its directory is created when missing. */
  readonly dbPath: string;
  /** Write-backs running at once. */
  readonly concurrency: number;
  /** Attempts before a job is marked failed; undefined retries forever. */
  readonly maxAttempts?: number;
  readonly backoff?: Partial<WriteBackBackoff>;
  /**
   * Writes one blob back. Rejecting with WriteBackSourceMissingError fails the job for
   * good; any other rejection schedules a retry. `signal` aborts on close.
   */
  readonly perform: (job: WriteBackJob, signal: AbortSignal) => Promise<void>;
  /** Told about every finished attempt (metrics, unpinning on success). */
  readonly onSettled?: (event: { job: WriteBackJob; result: WriteBackResult; error?: unknown }) => void;
  readonly clock?: QueueClock;
  /** Uniform in [0, 1); injected for deterministic jitter. */
  readonly random?: () => number;
  readonly logger?: StoreLogger;
}

export interface WriteBackQueueStats {
  readonly pending: number;
  readonly failed: number;
  readonly running: number;
  /** When the oldest pending job was enqueued; undefined when none is pending. */
  readonly oldestPendingAt: number | undefined;
}

export interface WriteBackQueue {
  /** Opens the table (idempotent) and returns the jobs a previous process left. */
  open(): readonly WriteBackJob[];
  /** Opens if needed and starts dispatching due jobs. */
  start(): void;
  /** Durably queues a write-back (or re-arms a failed one); false when it is already pending. */
  enqueue(digest: Digest, namespace?: string): boolean;
  /** Whether any job (pending or failed) holds `digest`. */
  holds(digest: Digest): boolean;
  /** Drops every job of `digest` (the blob was deleted); returns how many. */
  remove(digest: Digest): number;
  /** Puts failed jobs back in line with fresh attempts; returns how many. */
  retryFailed(): number;
  jobs(): WriteBackJob[];
  stats(): WriteBackQueueStats;
  /** Stops dispatching, aborts running attempts (they stay queued) and closes the table. */
  close(): Promise<void>;
}

const DEFAULT_BACKOFF: WriteBackBackoff = { initialMs: 1000, maxMs: 5 * 60_000, multiplier: 2, jitter: 0.2 };
const SCHEMA_VERSION = 1;

/**
 * The default: wall-clock time, because due times outlive the process in the table
 * (foundation's systemClock is monotonic and starts over in each process). Its timer
 * is not unref'd: a scheduled retry keeps the process alive until close().
 */
const wallClock: QueueClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface Row {
  readonly id: number;
  readonly job: WriteBackJob;
}

export function createWriteBackQueue(options: WriteBackQueueOptions): WriteBackQueue {
  const clock = options.clock ?? wallClock;
  const random = options.random ?? Math.random;
  const log = options.logger ?? silentStoreLogger;
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const running = new Map<number, AbortController>();
  const settling = new Set<Promise<void>>();
  let db: DatabaseSync | undefined;
  let started = false;
  let closing: Promise<void> | undefined;
  const timer = createDueTimer(clock, () => pump());

  function database(): DatabaseSync {
    if (db !== undefined) return db;
    if (closing !== undefined) throw new Error('write-back queue is closed');
    mkdirSync(dirname(options.dbPath), { recursive: true });
    const opened = new DatabaseSync(options.dbPath);
    // WAL lets the metrics scrape read while a job commits; FULL syncs every commit,
    // since a job must outlive a power cut just like the blob file it stands for.
    opened.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
    opened.exec(`
      CREATE TABLE IF NOT EXISTS write_back_jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        digest TEXT NOT NULL,
        namespace TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        enqueued_at INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        UNIQUE (digest, namespace)
      );
      CREATE INDEX IF NOT EXISTS write_back_jobs_due ON write_back_jobs (state, next_attempt_at);
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
    db = opened;
    return opened;
  }

  function rows(sql: string, ...params: (string | number)[]): Row[] {
    return database()
      .prepare(sql)
      .all(...params)
      .map(toRow);
  }

  function delayFor(attempts: number): number {
    return backoffDelay(backoff, attempts, random);
  }

  function pump(): void {
    if (!started || closing !== undefined) return;
    const now = clock.now();
    if (running.size < concurrency) {
      // Running jobs are still 'pending' in the table; over-fetch by their count.
      const due = rows(
        `SELECT * FROM write_back_jobs WHERE state = 'pending' AND next_attempt_at <= ?
         ORDER BY next_attempt_at, id LIMIT ?`,
        now,
        concurrency + running.size,
      ).filter((row) => !running.has(row.id));
      for (const row of due.slice(0, concurrency - running.size)) run(row);
    }
    arm();
  }

  /** Sets the timer for the earliest pending job that is not running. */
  function arm(): void {
    const next = rows(
      `SELECT * FROM write_back_jobs WHERE state = 'pending' ORDER BY next_attempt_at, id LIMIT ?`,
      running.size + 1,
    ).find((row) => !running.has(row.id));
    const at = next === undefined || running.size >= concurrency ? undefined : next.job.nextAttemptAt;
    timer.set(at);
  }

  function run(row: Row): void {
    const controller = new AbortController();
    running.set(row.id, controller);
    const attempt = Promise.resolve()
      .then(() => options.perform(row.job, controller.signal))
      .then(
        () => succeeded(row),
        (err: unknown) => {
          // Aborted by close: not an attempt; the job simply resumes next start.
          if (!controller.signal.aborted) failedAttempt(row, err);
        },
      )
      .catch((err: unknown) =>
        log.error({ err, digest: row.job.digest.value }, 'write-back bookkeeping failed'),
      )
      .finally(() => {
        running.delete(row.id);
        settling.delete(attempt);
        pump();
      });
    settling.add(attempt);
  }

  function succeeded(row: Row): void {
    database().prepare('DELETE FROM write_back_jobs WHERE id = ?').run(row.id);
    log.info({ digest: row.job.digest.value, attempts: row.job.attempts + 1 }, 'write-back done');
    options.onSettled?.({ job: row.job, result: 'success' });
  }

  function failedAttempt(row: Row, err: unknown): void {
    const attempts = row.job.attempts + 1;
    const message = err instanceof Error ? err.message : String(err);
    const fields = { digest: row.job.digest.value, namespace: row.job.namespace, attempts, err };
    const outOfAttempts = options.maxAttempts !== undefined && attempts >= options.maxAttempts;
    if (err instanceof WriteBackSourceMissingError || outOfAttempts) {
      database()
        .prepare(`UPDATE write_back_jobs SET state = 'failed', attempts = ?, last_error = ? WHERE id = ?`)
        .run(attempts, message, row.id);
      log.error(fields, 'write-back failed for good; the job is kept as failed and the blob stays pinned');
      options.onSettled?.({ job: { ...row.job, state: 'failed', attempts }, result: 'failed', error: err });
      return;
    }
    const nextAttemptAt = clock.now() + delayFor(attempts);
    database()
      .prepare('UPDATE write_back_jobs SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?')
      .run(attempts, nextAttemptAt, message, row.id);
    log.warn({ ...fields, retryAt: new Date(nextAttemptAt).toISOString() }, 'write-back failed; will retry');
    options.onSettled?.({ job: { ...row.job, attempts, nextAttemptAt }, result: 'retry', error: err });
  }

  return {
    open() {
      return rows('SELECT * FROM write_back_jobs ORDER BY id').map((row) => row.job);
    },

    start() {
      database();
      started = true;
      pump();
    },

    enqueue(digest, namespace) {
      const now = clock.now();
      const result = database()
        .prepare(
          // A failed job is put back in line: the new upload brought a fresh local copy.
          `INSERT INTO write_back_jobs (digest, namespace, enqueued_at, next_attempt_at)
           VALUES (?, ?, ?, ?)
           ON CONFLICT (digest, namespace) DO UPDATE
             SET state = 'pending', attempts = 0, next_attempt_at = excluded.next_attempt_at
             WHERE state = 'failed'`,
        )
        .run(digest.value, namespace ?? '', now, now);
      if (result.changes === 0) return false;
      pump();
      return true;
    },

    holds(digest) {
      return (
        database().prepare('SELECT 1 FROM write_back_jobs WHERE digest = ? LIMIT 1').get(digest.value) !==
        undefined
      );
    },

    remove(digest) {
      const result = database().prepare('DELETE FROM write_back_jobs WHERE digest = ?').run(digest.value);
      return Number(result.changes);
    },

    retryFailed() {
      const result = database()
        .prepare(
          `UPDATE write_back_jobs SET state = 'pending', attempts = 0, next_attempt_at = ? WHERE state = 'failed'`,
        )
        .run(clock.now());
      pump();
      return Number(result.changes);
    },

    jobs() {
      return rows('SELECT * FROM write_back_jobs ORDER BY id').map((row) => row.job);
    },

    stats() {
      const counts = database()
        .prepare(
          `SELECT
             SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END) AS pending,
             SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) AS failed,
             MIN(CASE WHEN state = 'pending' THEN enqueued_at END) AS oldest
           FROM write_back_jobs`,
        )
        .get();
      const oldest = counts?.oldest;
      return {
        pending: Number(counts?.pending ?? 0),
        failed: Number(counts?.failed ?? 0),
        running: running.size,
        oldestPendingAt: oldest === null || oldest === undefined ? undefined : Number(oldest),
      };
    },

    close() {
      closing ??= (async () => {
        timer.set(undefined);
        for (const controller of running.values()) controller.abort();
        await Promise.allSettled([...settling]);
        db?.close();
        db = undefined;
      })();
      return closing;
    },
  };
}

function toRow(record: Record<string, SQLOutputValue>): Row {
  const namespace = String(record.namespace ?? '');
  const lastError = record.last_error;
  return {
    id: Number(record.id),
    job: {
      digest: parseDigest(String(record.digest)),
      namespace: namespace === '' ? undefined : namespace,
      state: record.state === 'failed' ? 'failed' : 'pending',
      attempts: Number(record.attempts),
      enqueuedAt: Number(record.enqueued_at),
      nextAttemptAt: Number(record.next_attempt_at),
      lastError: lastError === null || lastError === undefined ? undefined : String(lastError),
    },
  };
}
