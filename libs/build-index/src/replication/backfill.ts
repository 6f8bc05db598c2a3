/**
 * Backfill and catch-up: replication of what the destination lacks, not only of new
 * writes. A sweep of a rule walks this node's share of the matching repositories
 * (ownership.ts), compares each one's tag listing with the destination's
 * (`GET /v1/replication/tags/:repository`, at most `repositoriesPerSecond`), and
 * queues every matching tag the destination lacks or holds at an older version, and
 * (for rules with `deletes`) every deletion of a tag the destination still holds at
 * an older version. The queue keeps one task per tag, so a sweep that finds what is
 * already queued adds nothing.
 *
 * Sweeps run at start, every `intervalMs`, when a rule is created, re-enabled or
 * changed, and when a destination recovers; one sweep per rule at a time (a request
 * during a sweep runs it again afterwards). A sweep that fails (the destination is
 * down) runs again after the queue's backoff, so a destination that comes back is
 * caught up without waiting for the interval.
 */
import { sleep, type Clock } from '@kraken/foundation';
import type { Logger } from '@kraken/service-kit';
import type { VersionedTagStore } from '../store/versioned-tag-store.js';
import { compareVersions, parseVersion } from '../version/tag-version.js';
import { ReplicationDestinationIsSelfError } from '../errors.js';
import type { Ownership } from './ownership.js';
import type { RemoteClusters } from './remote-cluster.js';
import type { ReplicationMetrics } from './replication-metrics.js';
import type { CompiledRule } from './rule-config.js';
import type { ChangeEvent } from './replicator.js';

export interface BackfillState {
  readonly running: boolean;
  readonly lastStartedAt?: number;
  readonly lastFinishedAt?: number;
  /** Tasks the last finished sweep queued. */
  readonly lastEnqueued?: number;
  readonly lastError?: { readonly message: string; readonly at: number };
}

export interface Backfill {
  /** Sweeps the named rules (every rule when none are named); resolves when they are done. */
  run(rules?: readonly string[]): Promise<void>;
  state(rule: string): BackfillState | undefined;
  /** Sweeps every rule now, then every interval. */
  start(): void;
  close(): Promise<void>;
}

export interface BackfillOptions {
  readonly clusterId: string;
  /** The rules in effect. */
  readonly rules: () => readonly CompiledRule[];
  readonly tags: VersionedTagStore;
  readonly remotes: RemoteClusters;
  readonly ownership: Ownership;
  /** Queues a change for one rule; true when a task was added or replaced. */
  readonly enqueue: (rule: CompiledRule, change: ChangeEvent) => boolean;
  /** 0: only at start and on demand. */
  readonly intervalMs: number;
  /** 0: unlimited. */
  readonly repositoriesPerSecond: number;
  /** Delays before a failed sweep runs again. */
  readonly retry: { readonly initialMs: number; readonly maxMs: number; readonly multiplier: number };
  /** Monotonic time and timers of the pacing and the interval. */
  readonly clock: Clock;
  /** Wall-clock ms, for the status. */
  readonly now: () => number;
  readonly metrics: ReplicationMetrics;
  readonly logger: Logger;
}

const CATALOG_PAGE = 1000;

export function createBackfill(options: BackfillOptions): Backfill {
  const { tags, clock } = options;
  const log = options.logger.child({ component: 'replication-backfill' });
  const states = new Map<string, BackfillState>();
  const sweeps = new Map<string, Promise<void>>();
  const again = new Set<string>();
  /** Failed sweeps in a row, and the timer of the next try, by rule. */
  const retries = new Map<string, { failures: number; timer: unknown }>();
  const controller = new AbortController();
  let timer: unknown;
  let closed = false;
  let started = false;
  let paceAt = 0;

  /** Waits until the next destination listing is allowed. */
  const pace = async (): Promise<void> => {
    if (options.repositoriesPerSecond <= 0) return;
    const gap = 1000 / options.repositoriesPerSecond;
    const now = clock.now();
    const at = Math.max(now, paceAt);
    paceAt = at + gap;
    if (at > now) await sleep(clock, at - now, controller.signal);
  };

  const sweepRule = async (compiled: CompiledRule): Promise<number> => {
    const { rule } = compiled;
    const { signal } = controller;
    const remote = await options.remotes.get(rule.destination).resolve();
    if (remote.descriptor.clusterId === options.clusterId)
      throw new ReplicationDestinationIsSelfError(rule.name, options.clusterId);
    const owns = await options.ownership.owners();
    let enqueued = 0;
    let last: string | undefined;
    for (;;) {
      const page = await tags.plain.listRepositories(
        last === undefined ? { n: CATALOG_PAGE } : { n: CATALOG_PAGE, last },
      );
      for (const repository of page) {
        if (!compiled.matchesRepository(repository) || !owns(repository)) continue;
        const local = await tags.list(repository);
        const values = local?.tags.filter((t) => compiled.matchesTag(t.tag)) ?? [];
        const present = new Set(values.map((t) => t.tag));
        const tombstones = rule.deletes
          ? (local?.deleted.filter((t) => compiled.matchesTag(t.tag) && !present.has(t.tag)) ?? [])
          : [];
        if (values.length + tombstones.length === 0) continue;
        await pace();
        signal.throwIfAborted();
        const theirs = await remote.listTags(repository, signal);
        const remoteValues = new Map(theirs?.tags.map((t) => [t.tag, t.version]));
        const remoteDeleted = new Map(theirs?.deleted.map((t) => [t.tag, t.version]));
        const originOf = (version: string) => parseVersion(version).clusterId || options.clusterId;
        for (const value of values) {
          const newest = [remoteValues.get(value.tag), remoteDeleted.get(value.tag)]
            .filter((v): v is string => v !== undefined)
            .sort(compareVersions)
            .at(-1);
          if (newest !== undefined && compareVersions(value.version, newest) <= 0) continue;
          const change = {
            repository,
            tag: value.tag,
            kind: 'put' as const,
            digest: value.digest,
            version: value.version,
          };
          if (options.enqueue(compiled, { ...change, origin: originOf(value.version) })) enqueued++;
        }
        for (const tombstone of tombstones) {
          const held = remoteValues.get(tombstone.tag);
          if (held === undefined || compareVersions(tombstone.version, held) <= 0) continue;
          const change = {
            repository,
            tag: tombstone.tag,
            kind: 'delete' as const,
            version: tombstone.version,
          };
          if (options.enqueue(compiled, { ...change, origin: originOf(tombstone.version) })) enqueued++;
        }
      }
      if (page.length < CATALOG_PAGE) return enqueued;
      last = page.at(-1);
    }
  };

  const sweep = (name: string): Promise<void> => {
    const running = sweeps.get(name);
    if (running !== undefined) {
      again.add(name);
      return running;
    }
    const compiled = options.rules().find((c) => c.rule.name === name && c.rule.enabled);
    if (compiled === undefined || closed) return Promise.resolve();
    const previous = states.get(name);
    const startedAt = options.now();
    states.set(name, { ...previous, running: true, lastStartedAt: startedAt });
    const done = sweepRule(compiled)
      .then(
        (enqueued) => {
          const retry = retries.get(name);
          if (retry !== undefined) clock.clearTimeout(retry.timer);
          retries.delete(name);
          states.set(name, {
            running: false,
            lastStartedAt: startedAt,
            lastFinishedAt: options.now(),
            lastEnqueued: enqueued,
          });
          options.metrics.backfilled(name, 'ok', enqueued);
          if (enqueued > 0) log.info({ rule: name, enqueued }, 'backfill queued what the destination lacks');
        },
        (err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          states.set(name, {
            ...previous,
            running: false,
            lastStartedAt: startedAt,
            lastError: { message, at: options.now() },
          });
          options.metrics.backfilled(name, 'failed', 0);
          if (closed) return;
          const failures = (retries.get(name)?.failures ?? 0) + 1;
          const { initialMs, maxMs, multiplier } = options.retry;
          const delay = Math.min(maxMs, initialMs * multiplier ** (failures - 1));
          const timer = clock.setTimeout(() => void sweep(name), delay);
          retries.set(name, { failures, timer });
          log.warn({ rule: name, err, retryInMs: delay }, 'backfill sweep failed; it runs again');
        },
      )
      .finally(() => {
        sweeps.delete(name);
        if (again.delete(name) && !closed) void sweep(name);
      });
    sweeps.set(name, done);
    return done;
  };

  const run = async (names?: readonly string[]): Promise<void> => {
    const all = names ?? options.rules().map((c) => c.rule.name);
    await Promise.all(all.map(sweep));
  };

  const schedule = (): void => {
    if (closed || options.intervalMs <= 0) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      void run().finally(schedule);
    }, options.intervalMs);
  };

  return {
    run,
    state: (rule) => states.get(rule),
    start() {
      if (started || closed) return;
      started = true;
      void run().finally(schedule);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      for (const retry of retries.values()) clock.clearTimeout(retry.timer);
      controller.abort();
      await Promise.allSettled([...sweeps.values()]);
    },
  };
}
