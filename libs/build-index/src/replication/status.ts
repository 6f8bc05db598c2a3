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
import { z } from 'zod';
import type { Backfill } from './backfill.js';
import type { RemoteClusters } from './remote-cluster.js';
import type { RuleGauges } from './replication-metrics.js';
import { destinationKey } from './rule-config.js';
import type { RuleStore } from './rule-store.js';
import type { TaskQueue } from './task-queue.js';

const errorAt = z.object({ message: z.string(), at: z.string() }).strict();

export const ruleStatusSchema = z
  .object({
    rule: z.string(),
    source: z.enum(['config', 'api']),
    enabled: z.boolean(),
    destination: z
      .object({
        key: z.string(),
        clusterId: z.string().nullable(),
        buildIndex: z.array(z.string()),
        origins: z
          .object({ nodes: z.array(z.string()), replicas: z.number() })
          .strict()
          .nullable(),
      })
      .strict()
      .describe('The destination as last resolved.'),
    pending: z.number().int(),
    inFlight: z.number().int(),
    done: z.number().int(),
    skipped: z.number().int(),
    failed: z.number().int(),
    bytesCopied: z.number(),
    lastError: errorAt.extend({ repository: z.string(), tag: z.string() }).strict().nullable(),
    lagSeconds: z.number(),
    lastDoneAt: z.string().nullable(),
    backfill: z
      .object({
        running: z.boolean(),
        lastStartedAt: z.string().nullable(),
        lastFinishedAt: z.string().nullable(),
        lastEnqueued: z.number().nullable(),
        lastError: errorAt.nullable(),
      })
      .strict(),
  })
  .strict();
export type RuleStatus = z.output<typeof ruleStatusSchema>;

export const replicationStatusSchema = z
  .object({
    clusterId: z.string(),
    node: z.string().describe("This node's URL: the status is of its queue."),
    rules: z.array(ruleStatusSchema),
  })
  .strict();
export type ReplicationStatus = z.output<typeof replicationStatusSchema>;

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
