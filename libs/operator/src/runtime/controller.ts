/**
 * A controller: informers feed keys into a work queue whose workers call `reconcile`.
 * Each watch maps an event on an object to the keys to reconcile: the object's own key
 * for the primary kind, its owner's key for owned kinds (`ownerKeys`). Workers start
 * only once every informer has synced, so the first reconcile of a key sees a full
 * cache. Reconciles are counted and timed by controller and result.
 */
import { systemClock, type Clock } from '@kraken/foundation';
import { silentLogger, type Logger } from '@kraken/service-kit';
import type { Informer } from './informer.js';
import type { KubeClient } from './kube-client.js';
import { isOfKind, keyOf, objectKey, type KubeObject, type ResourceKind } from './resource-kind.js';
import type { WorkQueueConfig } from './runtime-config.js';
import type { ReconcileResult, RuntimeMetrics } from './runtime-metrics.js';
import { createWorkQueue, type ProcessOutcome } from './work-queue.js';

export interface WatchSpec {
  readonly kind: ResourceKind;
  /** One namespace, or all when omitted. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  /** The keys an event on `obj` enqueues; the object's own key when omitted. */
  readonly keys?: (obj: KubeObject) => readonly string[];
}

export type ReconcileOutcome = ProcessOutcome;

export interface ControllerOptions {
  readonly name: string;
  readonly client: Pick<KubeClient, 'informer'>;
  readonly watches: readonly WatchSpec[];
  /**
   * Level-based: reads what it needs from the informer caches, makes the world match,
   * and returns (optionally asking to run again later). A rejection retries with
   * backoff. `signal` aborts when the controller closes or leadership is lost.
   */
  readonly reconcile: (key: string, signal: AbortSignal) => Promise<ReconcileOutcome | void>;
  readonly queue: WorkQueueConfig;
  readonly metrics: RuntimeMetrics;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Closes the controller when aborted (the leadership signal). */
  readonly signal?: AbortSignal;
}

export interface Controller {
  readonly name: string;
  /** Starts the informers, waits for them to sync, then starts the workers. Idempotent. */
  start(): Promise<void>;
  /** Queues a key by hand (a periodic resync, a test). */
  enqueue(key: string): void;
  /** Stops the workers (aborting running reconciles) and waits for them. Idempotent. */
  close(): Promise<void>;
}

/** Keys of the owners of kind `owner` named in an object's owner references. */
export function ownerKeys(owner: ResourceKind): (obj: KubeObject) => string[] {
  return (obj) =>
    (obj.metadata?.ownerReferences ?? [])
      .filter((ref) => isOfKind(ref, owner))
      .map((ref) => keyOf(owner.namespaced ? obj.metadata?.namespace : undefined, ref.name));
}

export function createController(options: ControllerOptions): Controller {
  const { name, metrics } = options;
  const clock = options.clock ?? systemClock;
  const logger = (options.logger ?? silentLogger()).child({ controller: name });
  const queue = createWorkQueue({
    name,
    clock,
    ...options.queue,
    metrics,
    process: async (key, signal) => {
      const began = clock.now();
      try {
        const outcome = await options.reconcile(key, signal);
        const result: ReconcileResult = outcome?.requeueAfterMs !== undefined ? 'requeue' : 'success';
        metrics.reconciles.inc({ controller: name, result });
        return outcome;
      } catch (err) {
        metrics.reconciles.inc({ controller: name, result: 'error' satisfies ReconcileResult });
        throw err;
      } finally {
        metrics.reconcileDuration.observe({ controller: name }, (clock.now() - began) / 1000);
      }
    },
    onError: (key, err) => logger.warn({ err, key }, 'reconcile failed; retrying with backoff'),
  });
  const informers: Informer[] = [];
  const unsubscribe: (() => void)[] = [];
  let starting: Promise<void> | undefined;
  let closing: Promise<void> | undefined;

  for (const watch of options.watches) {
    const informer = options.client.informer(watch.kind, {
      namespace: watch.namespace,
      labelSelector: watch.labelSelector,
    });
    const keys = watch.keys ?? ((obj: KubeObject) => [objectKey(obj)]);
    const enqueue = (...objs: KubeObject[]) => {
      for (const key of new Set(objs.flatMap((obj) => keys(obj)))) queue.add(key);
    };
    informers.push(informer);
    unsubscribe.push(
      informer.addHandler({
        onAdd: (obj) => enqueue(obj),
        // The old object too: an owner reference that was removed still names its owner there.
        onUpdate: (old, obj) => enqueue(old, obj),
        onDelete: (obj) => enqueue(obj),
      }),
    );
  }

  const stopSync = new AbortController();
  const controller: Controller = {
    name,
    start() {
      starting ??= (async () => {
        for (const informer of informers) informer.start();
        try {
          await Promise.all(informers.map((i) => i.waitForSync(stopSync.signal)));
        } catch (err) {
          if (closing !== undefined) return;
          throw err;
        }
        if (closing !== undefined) return;
        logger.info('caches synced; reconciling');
        queue.start();
      })();
      return starting;
    },
    enqueue: (key) => queue.add(key),
    close() {
      closing ??= (async () => {
        stopSync.abort(new Error(`controller ${name} closed`));
        for (const off of unsubscribe) off();
        await queue.close();
      })();
      return closing;
    },
  };
  if (options.signal?.aborted) void controller.close();
  else options.signal?.addEventListener('abort', () => void controller.close(), { once: true });
  return controller;
}
