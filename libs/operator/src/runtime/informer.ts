/**
 * An informer: a local cache of one kind (in one namespace or all), kept current by a
 * list followed by a watch, with event handlers. The library's ListWatch is not used
 * because it stops for good on the first watch error, reports its own stop as an
 * error and says nothing about having synced; this one:
 * - relists when the watch answers 410 Gone (its resourceVersion is too old), telling
 *   handlers what changed meanwhile (deletes included);
 * - resumes the watch from the last resourceVersion after any other failure, with
 *   exponential backoff on the injected clock;
 * - asks the server to end each watch after `watchTimeoutSeconds` and aborts one that
 *   outlives that by a grace period (a half-open connection), then resumes;
 * - is synced once its first list is in the cache.
 */
import { backoffDelay, sleep, type Clock, type TimerHandle } from '@kraken/foundation';
import { silentLogger, type Logger } from '@kraken/service-kit';
import { isGone } from '../errors.js';
import type { ListWatchSource, ObjectEvent } from './list-watch.js';
import { keyOf, objectKey, type KubeObject, type ResourceKind } from './resource-kind.js';
import type { RuntimeMetrics } from './runtime-metrics.js';

export interface InformerHandler<T extends KubeObject = KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(old: T, obj: T): void;
  onDelete?(obj: T): void;
}

export interface CacheFilter {
  /** Only this namespace. */
  readonly namespace?: string;
  /** Only objects with every one of these labels. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Only objects with an owner reference to this uid. */
  readonly ownerUid?: string;
}

export interface Informer<T extends KubeObject = KubeObject> {
  readonly kind: ResourceKind;
  /** The namespace watched; undefined for all namespaces. */
  readonly namespace: string | undefined;
  readonly labelSelector: string | undefined;
  /** Starts the list and watch. Idempotent. */
  start(): void;
  /** True once the first list is in the cache. */
  hasSynced(): boolean;
  /** Resolves once synced; rejects if the signal aborts or the informer closes first. */
  waitForSync(signal?: AbortSignal): Promise<void>;
  /** `namespace` is `''` for a cluster-scoped kind. */
  get(namespace: string, name: string): T | undefined;
  list(filter?: CacheFilter): T[];
  /**
   * Calls `handler` for every change from now on; objects already in the cache are
   * replayed to it as adds. Returns the function that removes it.
   */
  addHandler(handler: InformerHandler<T>): () => void;
  /** Stops the watch; the cache keeps its last state. Idempotent. */
  close(): Promise<void>;
}

export interface InformerOptions {
  readonly kind: ResourceKind;
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly source: ListWatchSource;
  readonly clock: Clock;
  /** First delay after a failed list or watch (ms). */
  readonly backoffBaseMs?: number;
  /** Upper bound of that delay (ms). */
  readonly backoffMaxMs?: number;
  /** The server ends each watch after this long; it is then resumed (no relist). */
  readonly watchTimeoutSeconds?: number;
  readonly metrics?: RuntimeMetrics;
  readonly logger?: Logger;
}

/** Slack after the server's watch timeout before the watch counts as hung. */
const watchGraceMs = 30_000;

export function createInformer<T extends KubeObject = KubeObject>(options: InformerOptions): Informer<T> {
  const { kind, source, clock } = options;
  const namespace = options.namespace === '' ? undefined : options.namespace;
  const logger = options.logger ?? silentLogger();
  const policy = {
    initialMs: options.backoffBaseMs ?? 500,
    maxMs: options.backoffMaxMs ?? 30_000,
    multiplier: 2,
    jitter: 0,
  };
  const timeoutSeconds = options.watchTimeoutSeconds ?? 300;
  const store = new Map<string, T>();
  const handlers = new Set<InformerHandler<T>>();
  const stop = new AbortController();
  const syncWaiters = new Set<() => void>();
  let resourceVersion: string | undefined;
  let synced = false;
  let running: Promise<void> | undefined;

  function emit(fn: (h: InformerHandler<T>) => void): void {
    for (const h of handlers) {
      try {
        fn(h);
      } catch (err) {
        logger.error({ err, kind: kind.kind }, 'informer handler failed');
      }
    }
  }

  function put(obj: T): void {
    const key = objectKey(obj);
    const old = store.get(key);
    store.set(key, obj);
    if (old === undefined) emit((h) => h.onAdd?.(obj));
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
      emit((h) => h.onUpdate?.(old, obj));
    }
  }

  function remove(obj: T): void {
    const key = objectKey(obj);
    const old = store.get(key);
    if (old === undefined) return;
    store.delete(key);
    emit((h) => h.onDelete?.(obj));
  }

  async function relist(): Promise<void> {
    options.metrics?.informerLists.inc({ kind: kind.kind });
    const list = await source.list<T>(kind, {
      namespace,
      labelSelector: options.labelSelector,
      signal: stop.signal,
    });
    const fresh = new Set(list.items.map(objectKey));
    for (const [key, old] of store) if (!fresh.has(key)) remove(old);
    for (const obj of list.items) put(obj);
    resourceVersion = list.resourceVersion;
    if (!synced) {
      synced = true;
      for (const wake of syncWaiters) wake();
      syncWaiters.clear();
    }
  }

  function onEvent(event: ObjectEvent<T>): void {
    const rv = event.object.metadata?.resourceVersion;
    if (event.type === 'ADDED' || event.type === 'MODIFIED') put(event.object);
    else if (event.type === 'DELETED') remove(event.object);
    if (rv !== undefined && rv !== '') resourceVersion = rv;
  }

  /** One watch, aborted if it outlives the server's timeout by the grace period. */
  async function watchOnce(from: string): Promise<boolean> {
    const hung = new AbortController();
    const onStop = () => hung.abort();
    stop.signal.addEventListener('abort', onStop, { once: true });
    const timer: TimerHandle = clock.setTimeout(() => hung.abort(), timeoutSeconds * 1000 + watchGraceMs);
    let events = 0;
    try {
      await source.watch<T>(
        kind,
        {
          namespace,
          labelSelector: options.labelSelector,
          resourceVersion: from,
          timeoutSeconds,
          signal: hung.signal,
        },
        (event) => {
          events++;
          onEvent(event);
        },
      );
    } finally {
      clock.clearTimeout(timer);
      stop.signal.removeEventListener('abort', onStop);
    }
    return events > 0;
  }

  async function run(): Promise<void> {
    let failures = 0;
    /** Waits out the backoff of the current failure count; false when stopped meanwhile. */
    const pause = async () => {
      try {
        await sleep(
          clock,
          backoffDelay(policy, failures, () => 0),
          stop.signal,
        );
        return true;
      } catch {
        return false;
      }
    };
    while (!stop.signal.aborted) {
      try {
        if (resourceVersion === undefined) await relist();
        const began = clock.now();
        const hadEvents = await watchOnce(resourceVersion as string);
        if (stop.signal.aborted) return;
        if (hadEvents || clock.now() - began >= 1000) {
          failures = 0;
          continue;
        }
        // A watch that ends at once with nothing in it counts as a failure, so that a
        // server (or proxy) that keeps closing it is not asked again in a tight loop.
        failures++;
        if (!(await pause())) return;
      } catch (err) {
        if (stop.signal.aborted) return;
        failures++;
        if (isGone(err)) {
          // The server no longer has history from our resourceVersion: relist, at once
          // the first time (the common case), with backoff if it keeps happening.
          logger.info({ kind: kind.kind, namespace }, 'watch expired (410 Gone); relisting');
          resourceVersion = undefined;
          if (failures === 1) continue;
        } else {
          logger.warn({ err, kind: kind.kind, namespace, failures }, 'list or watch failed; retrying');
        }
        if (!(await pause())) return;
      }
    }
  }

  return {
    kind,
    namespace,
    labelSelector: options.labelSelector,
    start() {
      if (running !== undefined || stop.signal.aborted) return;
      running = run();
    },
    hasSynced: () => synced,
    waitForSync(signal) {
      if (synced) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const fail = () => {
          syncWaiters.delete(wake);
          reject(signal?.aborted ? signal.reason : new Error(`informer for ${kind.kind} closed before sync`));
        };
        const wake = () => {
          signal?.removeEventListener('abort', fail);
          stop.signal.removeEventListener('abort', fail);
          resolve();
        };
        if (signal?.aborted || stop.signal.aborted) return fail();
        syncWaiters.add(wake);
        signal?.addEventListener('abort', fail, { once: true });
        stop.signal.addEventListener('abort', fail, { once: true });
      });
    },
    get: (ns, name) => store.get(keyOf(ns, name)),
    list(filter = {}) {
      const out: T[] = [];
      for (const obj of store.values()) if (matches(obj, filter)) out.push(obj);
      return out;
    },
    addHandler(handler) {
      handlers.add(handler);
      for (const obj of store.values()) {
        try {
          handler.onAdd?.(obj);
        } catch (err) {
          logger.error({ err, kind: kind.kind }, 'informer handler failed');
        }
      }
      return () => handlers.delete(handler);
    },
    async close() {
      stop.abort();
      await running;
    },
  };
}

function matches(obj: KubeObject, filter: CacheFilter): boolean {
  const meta = obj.metadata ?? {};
  if (filter.namespace !== undefined && (meta.namespace ?? '') !== filter.namespace) return false;
  if (filter.labels !== undefined) {
    for (const [k, v] of Object.entries(filter.labels)) if (meta.labels?.[k] !== v) return false;
  }
  if (filter.ownerUid !== undefined && !meta.ownerReferences?.some((o) => o.uid === filter.ownerUid)) {
    return false;
  }
  return true;
}
