/**
 * The re-replication sweep: lists this origin's blobs, computes each one's current
 * owners, asks every other healthy owner whether it holds the blob and pushes the
 * copies that are missing, a bounded number of blobs at a time. Owners believed down
 * are skipped (and another sweep is scheduled), so a dead node costs no timeouts.
 *
 * Runs are serialised: a request during a run marks the run dirty and one more run
 * follows it. Requests coalesce on the earliest due time.
 */
import type { RingNode } from '@kraken/hashring';
import type { Digest } from '@kraken/oci-content';
import type { Logger, Metrics } from '@kraken/service-kit';
import type { ContentStore } from '@kraken/storage-backends';
import type { ReplicaCopyResult } from './replica-copy.js';
import type { Timers } from '@kraken/foundation';
import type { ReplicationRing } from './replication-ring.js';

export interface ReplicationSweepReport {
  /** Local blobs looked at. */
  readonly checked: number;
  /** Copies found missing on healthy owners. */
  readonly missing: number;
  /** Blobs that got at least one new copy. */
  readonly replicated: number;
  /** Copies that failed, plus owners skipped as down. */
  readonly failed: number;
}

export type SweepTrigger = 'change' | 'retry' | 'interval';

export interface ReplicationSweepOptions {
  readonly ring: Pick<ReplicationRing, 'owners' | 'isHealthy'>;
  readonly self: string;
  readonly store: Pick<ContentStore, 'list' | 'stat'>;
  readonly concurrency: number;
  /** Copies the local blob to `node` (or finds it there). */
  readonly copy: (node: RingNode, digest: Digest, size: number) => Promise<ReplicaCopyResult>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly timers: Timers;
  readonly intervalMs: number;
  readonly changeDelayMs: number;
  readonly retryDelayMs: number;
  /** Blobs listed per page (default 500). */
  readonly pageSize?: number;
  /** Milliseconds, to coalesce requests on the earliest due time (default Date.now). */
  readonly now?: () => number;
}

export interface ReplicationSweep {
  schedule(trigger: SweepTrigger): void;
  runNow(): Promise<ReplicationSweepReport>;
  close(): Promise<void>;
}

export function createReplicationSweep(options: ReplicationSweepOptions): ReplicationSweep {
  const { ring, self, store, timers, logger } = options;
  const sweeps = options.metrics.counter('replication_sweeps_total', 'Re-replication sweeps run.');
  const missingFound = options.metrics.counter(
    'replication_missing_copies_total',
    'Copies found missing on an owner by the sweep.',
  );
  const rereplicated = options.metrics.counter(
    'replication_blobs_rereplicated_total',
    'Blobs the sweep brought back towards their replica count.',
  );
  const delays: Record<SweepTrigger, number> = {
    change: options.changeDelayMs,
    retry: options.retryDelayMs,
    interval: options.intervalMs,
  };
  const now = options.now ?? Date.now;
  let timer: unknown;
  let dueAt = Infinity;
  let running: Promise<ReplicationSweepReport> | undefined;
  let dirty = false;
  let closed = false;
  const controller = new AbortController();

  async function sweepBlob(digest: Digest, report: Counts): Promise<void> {
    const local = await store.stat(digest);
    if (local === undefined) return;
    report.checked++;
    let copied = false;
    for (const node of ring.owners(digest.value)) {
      if (node.id === self) continue;
      if (!ring.isHealthy(node.id)) {
        report.failed++;
        continue;
      }
      try {
        if ((await options.copy(node, digest, local.size)) === 'copied') {
          report.missing++;
          missingFound.inc();
          copied = true;
        }
      } catch (err) {
        report.failed++;
        logger.warn({ err, digest: digest.value, node: node.id }, 'sweep copy failed');
      }
    }
    if (copied) {
      report.replicated++;
      rereplicated.inc();
    }
  }

  async function run(): Promise<ReplicationSweepReport> {
    const report: Counts = { checked: 0, missing: 0, replicated: 0, failed: 0 };
    let token: string | undefined;
    do {
      const page = await store.list({
        limit: options.pageSize ?? 500,
        ...(token === undefined ? {} : { continuationToken: token }),
      });
      await forEachLimited(page.digests, options.concurrency, (digest) => sweepBlob(digest, report));
      token = page.continuationToken;
    } while (token !== undefined && !controller.signal.aborted);
    sweeps.inc();
    if (report.missing > 0 || report.failed > 0) logger.info({ ...report }, 'replication sweep done');
    return report;
  }

  function runNow(): Promise<ReplicationSweepReport> {
    if (running !== undefined) {
      dirty = true;
      return running;
    }
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
    dueAt = Infinity;
    const current = run()
      .catch((err: unknown) => {
        logger.warn({ err }, 'replication sweep failed');
        return { checked: 0, missing: 0, replicated: 0, failed: 1 };
      })
      .then((report) => {
        running = undefined;
        if (dirty) {
          dirty = false;
          schedule('change');
        } else schedule(report.failed > 0 ? 'retry' : 'interval');
        return report;
      });
    running = current;
    return current;
  }

  function schedule(trigger: SweepTrigger): void {
    if (closed) return;
    if (running !== undefined && trigger !== 'interval') {
      dirty = true;
      return;
    }
    const at = now() + delays[trigger];
    if (at >= dueAt) return;
    if (timer !== undefined) timers.clearTimeout(timer);
    dueAt = at;
    timer = timers.setTimeout(() => {
      timer = undefined;
      dueAt = Infinity;
      void runNow();
    }, delays[trigger]);
  }

  return {
    schedule,
    runNow,
    async close() {
      closed = true;
      controller.abort();
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}

interface Counts {
  checked: number;
  missing: number;
  replicated: number;
  failed: number;
}

/** Runs `fn` over the items with at most `limit` in flight. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
