/**
 * The durable queue of replication tasks, over the SQLite tables of task-table.ts:
 * the kind of queue the origin's write-back uses. A task is one tag change to carry
 * to one destination.
 *
 * - One task per (rule, destination, repository, tag): a newer change replaces an
 *   older pending one, and an older or equal one changes nothing.
 * - A task is inserted before the write that caused it is answered and deleted only
 *   after it succeeded, so a crash (even kill -9) leaves it to run after the restart.
 * - One synchronous loop (`pump`) dispatches due tasks oldest first, at most
 *   `concurrency` at once. A failure reschedules the task after a capped exponential
 *   backoff with jitter; tasks retry until they succeed or their rule goes, so a task
 *   that keeps failing keeps its last error visible and never blocks the others.
 */
import { backoffDelay, createDueTimer, type Clock } from '@kraken/foundation';
import type { Logger } from '@kraken/service-kit';
import {
  openTaskTable,
  type ReplicationTask,
  type TableStats,
  type TaskChange,
  type TaskTable,
} from './task-table.js';

/** What an attempt reports when it succeeded. */
export interface TaskOutcome {
  /** Blob bytes the attempt copied. */
  readonly bytes: number;
  /** Nothing was sent: the destination is where the change came from. */
  readonly skipped?: boolean;
}

export interface TaskBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
  readonly jitter: number;
}

export interface TaskQueueOptions {
  readonly dbPath: string;
  readonly concurrency: number;
  readonly backoff: TaskBackoff;
  /** Runs one task; rejects to have it retried. `signal` aborts on close. */
  readonly perform: (task: ReplicationTask, signal: AbortSignal) => Promise<TaskOutcome>;
  /** Told about every finished attempt. */
  readonly onSettled?: (event: { task: ReplicationTask; outcome?: TaskOutcome; error?: unknown }) => void;
  /** Wall-clock ms (due times outlive the process) and timers; tests pass a manual clock. */
  readonly clock: Clock;
  /** Uniform in [0, 1); injected for deterministic jitter. */
  readonly random?: () => number;
  readonly logger: Logger;
}

export interface QueueStats extends TableStats {
  /** Queued and not running. */
  readonly pending: number;
  readonly inFlight: number;
}

export interface TaskQueue {
  /** Opens the database (idempotent) and starts dispatching due tasks. */
  start(): void;
  enqueue(change: TaskChange): 'added' | 'replaced' | 'unchanged';
  /** Drops a rule's tasks: all of them, or those not for `keepDestination`. */
  drop(rule: string, keepDestination?: string): number;
  tasks(): ReplicationTask[];
  /** Counts blob bytes copied for a (rule, destination) as they are copied. */
  addBytes(rule: string, destination: string, bytes: number): void;
  stats(rule: string, destination: string): QueueStats;
  /** No task queued or running. */
  idle(): boolean;
  close(): Promise<void>;
}

export function createTaskQueue(options: TaskQueueOptions): TaskQueue {
  const { clock, backoff } = options;
  const random = options.random ?? Math.random;
  const log = options.logger.child({ component: 'replication-queue' });
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const running = new Map<number, { controller: AbortController; rule: string; destination: string }>();
  const settling = new Set<Promise<void>>();
  let table: TaskTable | undefined;
  let started = false;
  let closing: Promise<void> | undefined;
  const timer = createDueTimer(clock, () => pump());

  function open(): TaskTable {
    if (table !== undefined) return table;
    if (closing !== undefined) throw new Error('replication queue is closed');
    table = openTaskTable(options.dbPath);
    return table;
  }

  const delayFor = (attempts: number): number => backoffDelay(backoff, attempts, random);

  function pump(): void {
    if (!started || closing !== undefined) return;
    const now = clock.now();
    if (running.size < concurrency) {
      // Running tasks are still in the table; over-fetch by their count.
      const due = open()
        .due(now, concurrency + running.size)
        .filter((task) => !running.has(task.id));
      for (const task of due.slice(0, concurrency - running.size)) run(task);
    }
    arm();
  }

  /** Sets the timer for the earliest task that is not running. */
  function arm(): void {
    const next = open()
      .next(running.size + 1)
      .find((task) => !running.has(task.id));
    const at = next === undefined || running.size >= concurrency ? undefined : next.nextAttemptAt;
    timer.set(at);
  }

  function run(task: ReplicationTask): void {
    const controller = new AbortController();
    running.set(task.id, { controller, rule: task.rule, destination: task.destination });
    const attempt = Promise.resolve()
      .then(() => options.perform(task, controller.signal))
      .then(
        (outcome) => {
          open().succeeded(task, clock.now(), outcome.skipped === true);
          options.onSettled?.({ task, outcome });
        },
        (err: unknown) => {
          // Aborted by close: not an attempt; the task simply resumes next start.
          if (controller.signal.aborted) return;
          const now = clock.now();
          const nextAttemptAt = now + delayFor(task.attempts + 1);
          const message = err instanceof Error ? err.message : String(err);
          open().failed(task, { message, nextAttemptAt, now });
          log.warn(
            {
              task: describe(task),
              attempts: task.attempts + 1,
              err,
              retryAt: new Date(nextAttemptAt).toISOString(),
            },
            'replication task failed; will retry',
          );
          options.onSettled?.({ task, error: err });
        },
      )
      .catch((err: unknown) =>
        log.error({ err, task: describe(task) }, 'replication queue bookkeeping failed'),
      )
      .finally(() => {
        running.delete(task.id);
        settling.delete(attempt);
        pump();
      });
    settling.add(attempt);
  }

  return {
    start() {
      open();
      started = true;
      pump();
    },

    enqueue(change) {
      const result = open().upsert(change, clock.now());
      if (result !== 'unchanged') pump();
      return result;
    },

    drop: (rule, keepDestination) => open().drop(rule, keepDestination),
    tasks: () => open().all(),
    addBytes: (rule, destination, bytes) => open().addBytes(rule, destination, bytes),

    stats(rule, destination) {
      const stats = open().stats(rule, destination);
      let inFlight = 0;
      for (const entry of running.values())
        if (entry.rule === rule && entry.destination === destination) inFlight++;
      return { ...stats, pending: Math.max(0, stats.queued - inFlight), inFlight };
    },

    idle: () => running.size === 0 && open().isEmpty(),

    close() {
      closing ??= (async () => {
        timer.set(undefined);
        for (const entry of running.values()) entry.controller.abort();
        await Promise.allSettled([...settling]);
        table?.close();
        table = undefined;
      })();
      return closing;
    },
  };
}

function describe(task: TaskChange): string {
  return `${task.rule}: ${task.kind} ${task.repository}:${task.tag}@${task.version}`;
}
