/**
 * The sending side of cross-cluster replication: which changes become tasks, and
 * what a task does.
 *
 * - A change this node accepted (a tag PUT or DELETE through its /v1/ API) or applied
 *   from another cluster becomes one task per enabled rule that matches its
 *   repository and tag (deletes only for rules with `deletes: true`). A change that
 *   came from another cluster is never sent back towards the cluster it came from,
 *   nor towards the cluster where it was first written: that, and "apply only if
 *   newer" on the receiving side, is what keeps bidirectional rules from looping.
 *   A referrer added to a tag's closure re-queues the tag's put: never towards the
 *   cluster the referrer came from, and only when its record was new, so it stops.
 * - A put task copies the tag's closure (closure-copy.ts: blobs, then manifest
 *   records), then sends the change; a delete task sends the tombstone. The receiver
 *   applies it only if it is newer than what it holds.
 * - Rules change at runtime: tasks of a rule that went away, was disabled or points
 *   at another destination are dropped; a rule that is new, re-enabled or moved is
 *   backfilled (backfill.ts), and so is a destination that recovers after failing.
 */
import { systemClock, type Clock } from '@kraken/foundation';
import { parseDigest } from '@kraken/oci-content';
import type { Logger } from '@kraken/service-kit';
import { createTokenBucket, type TokenBucket } from '@kraken/storage-backends';
import { ReplicationDestinationIsSelfError } from '../errors.js';
import type { VersionedTagStore } from '../store/versioned-tag-store.js';
import type { ClosureCopier } from './closure-copy.js';
import type { RemoteClusters } from './remote-cluster.js';
import type { ReplicationMetrics } from './replication-metrics.js';
import { destinationKey, type CompiledRule } from './rule-config.js';
import type { TaskOutcome } from './task-queue.js';
import type { ChangeKind, ReplicationTask, TaskChange } from './task-table.js';

/** A tag change that may need replicating. */
export interface ChangeEvent {
  readonly repository: string;
  readonly tag: string;
  readonly kind: ChangeKind;
  readonly digest?: string | undefined;
  readonly version: string;
  /** The cluster where it was first written. */
  readonly origin: string;
  /** The cluster it arrived from, for a change applied from elsewhere. */
  readonly from?: string | undefined;
  /**
   * A referrer of the tag's manifest was added (referrer-trigger.ts): the task runs
   * again even at a version already sent, and `from` is where the referrer came from
   * (the tag change it carries along is a no-op wherever it is not newer).
   */
  readonly referrer?: boolean;
}

export interface Replicator {
  /** Swaps in the rules in effect; returns the names of rules to backfill. */
  setRules(rules: readonly CompiledRule[]): string[];
  rules(): readonly CompiledRule[];
  /** Queues a change for every rule it matches; returns how many tasks it queued. */
  enqueue(change: ChangeEvent): number;
  perform(task: ReplicationTask, signal: AbortSignal): Promise<TaskOutcome>;
  /** Told by the queue about every finished attempt. */
  settled(event: { task: ReplicationTask; outcome?: TaskOutcome; error?: unknown }): void;
}

export interface ReplicatorOptions {
  readonly clusterId: string;
  readonly tags: VersionedTagStore;
  readonly remotes: RemoteClusters;
  readonly copier: ClosureCopier;
  /** Durably queues a task (task-queue.ts `enqueue`). */
  readonly queue: {
    enqueue(change: TaskChange): 'added' | 'replaced' | 'unchanged';
    drop(rule: string, keepDestination?: string): number;
    addBytes(rule: string, destination: string, bytes: number): void;
  };
  readonly metrics: ReplicationMetrics;
  /** A destination answered again after failing: backfill the rule. */
  readonly onRecovered: (rule: string) => void;
  /** Clock of the bandwidth buckets (the queue's: their waits run on its timers). */
  readonly clock?: Pick<Clock, 'now'>;
  readonly logger: Logger;
}

export function createReplicator(options: ReplicatorOptions): Replicator {
  const { clusterId, queue, remotes, metrics } = options;
  const log = options.logger.child({ component: 'replicator' });
  const clock = options.clock ?? systemClock;
  let byName = new Map<string, CompiledRule>();
  const buckets = new Map<string, { rate: number; bucket: TokenBucket }>();
  const failing = new Set<string>();

  const bucketFor = (name: string, rate: number): TokenBucket | undefined => {
    if (rate <= 0) return undefined;
    const held = buckets.get(name);
    if (held !== undefined && held.rate === rate) return held.bucket;
    const bucket = createTokenBucket({ bytesPerSecond: rate, clock });
    buckets.set(name, { rate, bucket });
    return bucket;
  };

  /** The rule as it is now, when the task still belongs to it. */
  const ruleOf = (task: ReplicationTask): CompiledRule | undefined => {
    const compiled = byName.get(task.rule);
    if (compiled === undefined || !compiled.rule.enabled) return undefined;
    return destinationKey(compiled.rule.destination) === task.destination ? compiled : undefined;
  };

  return {
    rules: () => [...byName.values()],

    setRules(rules) {
      const previous = byName;
      byName = new Map(rules.map((compiled) => [compiled.rule.name, compiled]));
      const backfill: string[] = [];
      for (const [name, old] of previous) {
        const now = byName.get(name)?.rule;
        if (now === undefined || !now.enabled) {
          const dropped = queue.drop(name);
          if (dropped > 0)
            log.info({ rule: name, dropped }, 'replication rule gone or disabled; its tasks dropped');
          buckets.delete(name);
        } else if (destinationKey(now.destination) !== destinationKey(old.rule.destination)) {
          queue.drop(name, destinationKey(now.destination));
        }
      }
      for (const [name, compiled] of byName) {
        const old = previous.get(name)?.rule;
        const rule = compiled.rule;
        if (!rule.enabled) continue;
        if (
          old === undefined ||
          !old.enabled ||
          JSON.stringify([old.repositories, old.tags, old.deletes, old.destination]) !==
            JSON.stringify([rule.repositories, rule.tags, rule.deletes, rule.destination])
        )
          backfill.push(name);
      }
      remotes.retain(new Set([...byName.values()].map((c) => destinationKey(c.rule.destination))));
      return backfill;
    },

    enqueue(change) {
      let queued = 0;
      // A referrer is excluded only from where it came: the tag's origin may lack it.
      const sources = change.referrer === true ? [change.from] : [change.from, change.origin];
      const exclude = [...new Set(sources.filter((c): c is string => c !== undefined))];
      for (const compiled of byName.values()) {
        const { rule } = compiled;
        if (!rule.enabled || (change.kind === 'delete' && !rule.deletes)) continue;
        if (!compiled.matchesRepository(change.repository) || !compiled.matchesTag(change.tag)) continue;
        // Local writes go everywhere; a change from elsewhere never goes back where it came from.
        const known = remotes.get(rule.destination).known()?.clusterId;
        if (change.from !== undefined && known !== undefined && exclude.includes(known)) continue;
        const result = queue.enqueue({
          rule: rule.name,
          destination: destinationKey(rule.destination),
          repository: change.repository,
          tag: change.tag,
          kind: change.kind,
          digest: change.digest,
          version: change.version,
          origin: change.origin,
          exclude: change.from === undefined ? [] : exclude,
          ...(change.referrer === true ? { refresh: true } : {}),
        });
        if (result !== 'unchanged') queued++;
      }
      return queued;
    },

    async perform(task, signal) {
      const compiled = ruleOf(task);
      // The rule went, was disabled or moved since the task was queued.
      if (compiled === undefined) return { bytes: 0, skipped: true };
      const { rule } = compiled;
      const remote = await remotes.get(rule.destination).resolve();
      const destination = remote.descriptor.clusterId;
      if (destination === clusterId) throw new ReplicationDestinationIsSelfError(rule.name, clusterId);
      if (task.exclude.includes(destination)) return { bytes: 0, skipped: true };
      const change = {
        repository: task.repository,
        tag: task.tag,
        version: task.version,
        origin: task.origin,
        from: clusterId,
      };
      if (task.kind === 'delete') {
        await remote.putChange({ ...change, kind: 'delete' }, signal);
        return { bytes: 0 };
      }
      const root = parseDigest(task.digest ?? '');
      const report = await options.copier.copy({
        repository: task.repository,
        root,
        destination: task.destination,
        remote,
        bucket: bucketFor(rule.name, rule.bandwidthBytesPerSecond),
        signal,
        onCopied: (bytes) => {
          queue.addBytes(rule.name, task.destination, bytes);
          metrics.blobCopied(rule.name, bytes);
        },
      });
      metrics.copied(rule.name, report);
      const record = await options.tags.plain.getManifest(task.repository, root);
      await remote.putChange(
        { ...change, kind: 'put', digest: root.value, ...(record ? { record } : {}) },
        signal,
      );
      return { bytes: report.bytes };
    },

    settled({ task, outcome, error }) {
      if (error !== undefined) {
        metrics.taskSettled(task.rule, 'failed');
        failing.add(task.rule);
        return;
      }
      metrics.taskSettled(task.rule, outcome?.skipped === true ? 'skipped' : 'done');
      if (failing.delete(task.rule)) {
        log.info({ rule: task.rule }, 'replication destination recovered; backfilling the rule');
        options.onRecovered(task.rule);
      }
    },
  };
}
