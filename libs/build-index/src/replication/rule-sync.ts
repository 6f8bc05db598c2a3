/**
 * Keeping the rules of every node of a cluster the same (rule-store.ts holds them):
 *
 * - a rule written through one node's API is pushed at once to every peer
 *   (`PUT /v1/replica/replication/rules/:name` with the versioned record);
 * - every `rulesRefreshSeconds` each node re-reads its backend and pulls every peer's
 *   records (`GET /v1/replica/replication/rules`), keeping the newer of each, so a
 *   node that was down or missed a push converges within one interval.
 *
 * The pull also tells which peers are alive: backfill splits its sweeps among the
 * nodes that answered (ownership.ts). Like the other `/v1/replica/` routes these
 * must only be reachable from inside the cluster.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { createHttpPool } from '@kraken/service-kit';
import { z } from 'zod';
import type { Timers } from '@kraken/foundation';
import {
  errorFromResponse,
  installErrorHandler,
  InvalidRequestError,
  readJsonResponse,
  ServiceUnreachableError,
  type Logger,
  type ClientTlsContext,
} from '@kraken/service-kit';
import { ruleNameParamsSchema } from './rule-routes.js';
import { ruleRecordSchema, type RuleRecord, type RuleStore } from './rule-store.js';

export interface RuleSync {
  readonly routes: FastifyPluginAsync;
  /** Pushes a record this node wrote to every peer (failures are logged; the pull repairs them). */
  push(record: RuleRecord): Promise<void>;
  /** Re-reads the backend and pulls every peer; resolves with the peers that answered. */
  refresh(): Promise<ReadonlySet<string>>;
  /** Refreshes now and then every interval. */
  start(): void;
  close(): Promise<void>;
}

export interface RuleSyncOptions {
  readonly rules: RuleStore;
  /** Base URLs of the other nodes of this cluster. */
  readonly peers: readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly timers: Timers;
  readonly logger: Logger;
  /** TLS for https:// URLs: the client files (`createClientTls`); the system CAs when absent. */
  readonly tls?: ClientTlsContext | undefined;
}

export const ruleRecordListSchema = z.object({ rules: z.array(ruleRecordSchema) }).strict();
export const ruleApplyResultSchema = z.object({ applied: z.boolean() }).strict();
type RuleRecordList = z.output<typeof ruleRecordListSchema>;
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export function createRuleSync(options: RuleSyncOptions): RuleSync {
  const { rules, timers } = options;
  const log = options.logger.child({ component: 'replication-rule-sync' });
  const peers = options.peers.map((url) => {
    const base = new URL(url);
    return {
      url: base.origin + base.pathname.replace(/\/+$/, ''),
      prefix: base.pathname.replace(/\/+$/, ''),
      pool: createHttpPool(base.origin, {
        connections: 2,
        headersTimeoutMs: options.timeoutMs,
        bodyTimeoutMs: options.timeoutMs,
        tls: options.tls,
      }),
    };
  });
  const controller = new AbortController();
  let timer: unknown;
  let closed = false;
  let started = false;
  let refreshing: Promise<ReadonlySet<string>> | undefined;

  const call = async <T>(
    peer: (typeof peers)[number],
    request: { method: 'GET' | 'PUT'; path: string; body?: unknown },
    schema: z.ZodType<T>,
  ): Promise<T> => {
    const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(options.timeoutMs)]);
    let response;
    try {
      response = await peer.pool.request({
        method: request.method,
        path: peer.prefix + request.path,
        signal,
        ...(request.body === undefined
          ? {}
          : { body: JSON.stringify(request.body), headers: { 'content-type': 'application/json' } }),
      });
    } catch (err) {
      throw new ServiceUnreachableError(`${request.method} ${peer.url}${request.path}`, err);
    }
    if (response.statusCode !== 200) throw await errorFromResponse(response.statusCode, response.body);
    return readJsonResponse(response.body, {
      schema,
      what: `${request.method} ${request.path}`,
      maxBytes: MAX_RESPONSE_BYTES,
    });
  };

  const pullAll = async (): Promise<ReadonlySet<string>> => {
    await rules.load().catch((err: unknown) => log.warn({ err }, 'reading the replication rules failed'));
    const alive = new Set<string>();
    await Promise.all(
      peers.map(async (peer) => {
        try {
          const { rules: records } = await call(
            peer,
            { method: 'GET', path: '/v1/replica/replication/rules' },
            ruleRecordListSchema,
          );
          alive.add(peer.url);
          for (const record of records) {
            if (await rules.apply(record))
              log.info({ rule: record.name, peer: peer.url }, 'replication rule pulled from a peer');
          }
        } catch (err) {
          if (!closed) log.debug({ err, peer: peer.url }, 'pulling replication rules from a peer failed');
        }
      }),
    );
    return alive;
  };

  const refresh = (): Promise<ReadonlySet<string>> => {
    refreshing ??= pullAll().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };

  const schedule = (): void => {
    if (closed) return;
    timer = timers.setTimeout(() => {
      timer = undefined;
      void refresh().finally(schedule);
    }, options.intervalMs);
  };

  return {
    refresh,

    async push(record) {
      await Promise.all(
        peers.map(async (peer) => {
          try {
            await call(
              peer,
              {
                method: 'PUT',
                path: `/v1/replica/replication/rules/${encodeURIComponent(record.name)}`,
                body: record,
              },
              ruleApplyResultSchema,
            );
          } catch (err) {
            log.warn(
              { err, peer: peer.url, rule: record.name },
              'pushing a replication rule to a peer failed; its next pull repairs it',
            );
          }
        }),
      );
    },

    routes: async function ruleSyncRoutes(app: FastifyInstance) {
      installErrorHandler(app);
      app.get('/v1/replica/replication/rules', async (): Promise<RuleRecordList> => ({
        rules: rules.records(),
      }));
      app.put('/v1/replica/replication/rules/:name', async (request) => {
        const { name } = ruleNameParamsSchema.parse(request.params);
        const parsed = ruleRecordSchema.safeParse(request.body);
        if (!parsed.success || parsed.data.name !== name)
          throw new InvalidRequestError('request body is not the record of this rule', {
            issues: parsed.success ? [] : parsed.error.issues,
          });
        return { applied: await rules.apply(parsed.data) };
      });
    },

    start() {
      if (closed || started) return;
      started = true;
      void refresh().finally(schedule);
    },

    async close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      controller.abort();
      await refreshing?.catch(() => {});
      await Promise.all(peers.map((peer) => peer.pool.close()));
    },
  };
}
