/**
 * The metrics of cross-cluster replication, `kraken_build_index_replication_*`,
 * registered on the Metrics registry the lib is given. Queue depths and lag are read
 * at scrape time from the status (status.ts), the rest counted as things happen.
 */
import type { Metrics } from '@kraken/service-kit';
import type { CopyReport } from './closure-copy.js';

export interface RuleGauges {
  readonly rule: string;
  readonly pending: number;
  readonly inFlight: number;
  readonly failed: number;
  readonly lagSeconds: number;
}

export interface ReplicationMetrics {
  taskSettled(rule: string, result: 'done' | 'skipped' | 'failed'): void;
  /** A blob landed in the destination. */
  blobCopied(rule: string, bytes: number): void;
  /** A closure copy finished. */
  copied(rule: string, report: CopyReport): void;
  changeReceived(kind: 'put' | 'delete', result: 'applied' | 'stale' | 'rejected'): void;
  backfilled(rule: string, result: 'ok' | 'failed', enqueued: number): void;
}

export function createReplicationMetrics(
  metrics: Metrics,
  sources: {
    readonly rules: () => readonly RuleGauges[];
    readonly ruleCount: () => Record<'config' | 'api', number>;
  },
): ReplicationMetrics {
  metrics.gauge(
    'replication_tasks',
    'Replication tasks queued, by rule and state (pending, in_flight, failed).',
    {
      labelNames: ['rule', 'state'] as const,
      collect(gauge) {
        gauge.reset();
        for (const rule of sources.rules()) {
          gauge.set({ rule: rule.rule, state: 'pending' }, rule.pending);
          gauge.set({ rule: rule.rule, state: 'in_flight' }, rule.inFlight);
          gauge.set({ rule: rule.rule, state: 'failed' }, rule.failed);
        }
      },
    },
  );
  metrics.gauge(
    'replication_lag_seconds',
    'Age of the oldest change not yet replicated, by rule; 0 when none.',
    {
      labelNames: ['rule'] as const,
      collect(gauge) {
        gauge.reset();
        for (const rule of sources.rules()) gauge.set({ rule: rule.rule }, rule.lagSeconds);
      },
    },
  );
  metrics.gauge('replication_rules', 'Replication rules in effect, by source (config, api).', {
    labelNames: ['source'] as const,
    collect(gauge) {
      const counts = sources.ruleCount();
      gauge.set({ source: 'config' }, counts.config);
      gauge.set({ source: 'api' }, counts.api);
    },
  });
  const tasks = metrics.counter(
    'replication_tasks_total',
    'Replication task attempts, by rule and result (done, skipped: nothing to send, failed).',
    ['rule', 'result'] as const,
  );
  const bytes = metrics.counter(
    'replication_bytes_copied_total',
    'Blob bytes copied to destinations, by rule.',
    ['rule'] as const,
  );
  const blobs = metrics.counter(
    'replication_blobs_total',
    'Blobs of replicated closures, by rule and result (copied, present: the destination had it).',
    ['rule', 'result'] as const,
  );
  const records = metrics.counter(
    'replication_records_copied_total',
    'Manifest records copied to destination build-indexes, by rule.',
    ['rule'] as const,
  );
  const received = metrics.counter(
    'replication_changes_received_total',
    'Tag changes received from other clusters, by kind and result (applied, stale, rejected).',
    ['kind', 'result'] as const,
  );
  const backfills = metrics.counter('replication_backfills_total', 'Backfill sweeps, by rule and result.', [
    'rule',
    'result',
  ] as const);
  const backfillTasks = metrics.counter(
    'replication_backfill_enqueued_total',
    'Tasks queued by backfill sweeps (tags the destination lacked or held older), by rule.',
    ['rule'] as const,
  );
  return {
    taskSettled: (rule, result) => tasks.inc({ rule, result }),
    blobCopied: (rule, n) => bytes.inc({ rule }, n),
    copied(rule, report) {
      blobs.inc({ rule, result: 'copied' }, report.blobsCopied);
      blobs.inc({ rule, result: 'present' }, report.blobsPresent);
      records.inc({ rule }, report.recordsCopied);
    },
    changeReceived: (kind, result) => received.inc({ kind, result }),
    backfilled(rule, result, enqueued) {
      backfills.inc({ rule, result });
      backfillTasks.inc({ rule }, enqueued);
    },
  };
}
