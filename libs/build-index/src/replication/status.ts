/**
 * The status of replication on this node, per rule and its destination, as
 * `GET /v1/replication/status` answers it and the metrics read it:
 *
 * - `pending` (queued, not running), `inFlight`, `failed` (tasks whose last attempt
 *   failed and that wait for their retry), `done` (tasks that delivered their change,
 *   kept across restarts), `skipped` (tasks with nothing to send: the change came
 *   from the destination, or the rule went), `bytesCopied`;
 * - `lastError` with its time, repository and tag (it stays visible after the
 *   destination recovers; `failed` going back to 0 says it did);
 * - `lagSeconds`: the age of the oldest change not yet replicated, 0 when none;
 * - the destination as last resolved, and the last backfill sweep.
 *
 * Each node reports its own queue: a node queues the writes it accepted and its share
 * of backfill, so the cluster's status is the sum over its nodes.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { installErrorHandler } from '@kraken/service-kit';
import type { Backfill } from './backfill.js';
import type { RemoteClusters } from './remote-cluster.js';
import type { RuleGauges } from './replication-metrics.js';
import { destinationKey } from './rule-config.js';
import type { RuleSource, RuleStore } from './rule-store.js';
import type { TaskQueue } from './task-queue.js';

export interface RuleStatus {
  readonly rule: string;
  readonly source: RuleSource;
  readonly enabled: boolean;
  readonly destination: {
    readonly key: string;
    readonly clusterId: string | null;
    readonly buildIndex: readonly string[];
    readonly origins: { readonly nodes: readonly string[]; readonly replicas: number } | null;
  };
  readonly pending: number;
  readonly inFlight: number;
  readonly done: number;
  readonly skipped: number;
  readonly failed: number;
  readonly bytesCopied: number;
  readonly lastError: { message: string; at: string; repository: string; tag: string } | null;
  readonly lagSeconds: number;
  readonly lastDoneAt: string | null;
  readonly backfill: {
    readonly running: boolean;
    readonly lastStartedAt: string | null;
    readonly lastFinishedAt: string | null;
    readonly lastEnqueued: number | null;
    readonly lastError: { message: string; at: string } | null;
  };
}

export interface ReplicationStatus {
  readonly clusterId: string;
  /** This node's URL: the status is of its queue. */
  readonly node: string;
  readonly rules: readonly RuleStatus[];
}

export interface StatusReporter {
  status(): ReplicationStatus;
  gauges(): RuleGauges[];
  readonly routes: FastifyPluginAsync;
}

export function createStatusReporter(options: {
  readonly clusterId: string;
  readonly node: () => string;
  readonly rules: RuleStore;
  readonly queue: TaskQueue;
  readonly remotes: RemoteClusters;
  readonly backfill: Backfill;
  /** Wall-clock ms. */
  readonly now: () => number;
}): StatusReporter {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

  const ruleStatus = (view: ReturnType<RuleStore['list']>[number], now: number): RuleStatus => {
    const key = destinationKey(view.destination);
    const stats = options.queue.stats(view.name, key);
    const known = options.remotes.get(view.destination).known();
    const backfill = options.backfill.state(view.name);
    return {
      rule: view.name,
      source: view.source,
      enabled: view.enabled,
      destination: {
        key,
        clusterId: known?.clusterId ?? null,
        buildIndex: known?.buildIndex ?? view.destination.buildIndex ?? [],
        origins: known?.origins ?? view.destination.origins ?? null,
      },
      pending: stats.pending,
      inFlight: stats.inFlight,
      done: stats.done,
      skipped: stats.skipped,
      failed: stats.failing,
      bytesCopied: stats.bytes,
      lastError:
        stats.lastError === undefined
          ? null
          : { ...stats.lastError, at: new Date(stats.lastError.at).toISOString() },
      lagSeconds:
        stats.oldestEnqueuedAt === undefined ? 0 : Math.max(0, (now - stats.oldestEnqueuedAt) / 1000),
      lastDoneAt: iso(stats.lastDoneAt),
      backfill: {
        running: backfill?.running ?? false,
        lastStartedAt: iso(backfill?.lastStartedAt),
        lastFinishedAt: iso(backfill?.lastFinishedAt),
        lastEnqueued: backfill?.lastEnqueued ?? null,
        lastError:
          backfill?.lastError === undefined
            ? null
            : { message: backfill.lastError.message, at: new Date(backfill.lastError.at).toISOString() },
      },
    };
  };

  const status = (): ReplicationStatus => {
    const now = options.now();
    return {
      clusterId: options.clusterId,
      node: options.node(),
      rules: options.rules.list().map((view) => ruleStatus(view, now)),
    };
  };

  return {
    status,
    gauges: () =>
      status().rules.map((r) => ({
        rule: r.rule,
        pending: r.pending,
        inFlight: r.inFlight,
        failed: r.failed,
        lagSeconds: r.lagSeconds,
      })),
    routes: async function statusRoutes(app: FastifyInstance) {
      installErrorHandler(app);
      app.get('/v1/replication/status', async () => status());
    },
  };
}
