/**
 * The narrow Kubernetes client the controllers use: reads by kind, shared informers,
 * and the four kinds of write a level-based controller makes: server-side apply of
 * desired objects, a status patch, finalizer patches and delete. Every write request
 * is counted by verb and kind, and the two writes a reconcile repeats on every pass
 * (apply and status) are skipped when the informer cache shows they would change
 * nothing, so a reconcile that finds nothing to change writes nothing.
 */
import { systemClock, type Clock } from '@kraken/foundation';
import { silentLogger, type Logger } from '@kraken/service-kit';
import { isNotFound, UnknownKindError } from '../errors.js';
import { createApiTransport } from './api-transport.js';
import { firstDifference } from './field-subset.js';
import { changeFinalizers, withFinalizer, withoutFinalizer, type FinalizerPatcher } from './finalizers.js';
import { createInformer, type Informer } from './informer.js';
import { loadKubeConfig, type KubeConfigOptions } from './kube-config.js';
import { createLeaseApi, type LeaseApi } from './lease-api.js';
import type { ListOptions, ListWatchSource, ObjectEvent, ObjectList, WatchOptions } from './list-watch.js';
import {
  apiGroup,
  builtinKinds,
  objectKey,
  resourcePath,
  type KubeObject,
  type ResourceKind,
} from './resource-kind.js';
import type { RuntimeMetrics, WriteVerb } from './runtime-metrics.js';
import { replacingMergePatch, statusEqual } from './status-patch.js';

export const defaultFieldManager = 'kraken-operator';

export interface KubeClientOptions extends KubeConfigOptions {
  readonly metrics: RuntimeMetrics;
  /** Kinds beyond `builtinKinds` that objects given to apply or patch may be (the CRDs). */
  readonly kinds?: readonly ResourceKind[];
  /** The server-side apply field manager. */
  readonly fieldManager?: string;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Informer retry backoff and watch timeout (see InformerOptions). */
  readonly informers?: {
    readonly backoffBaseMs?: number;
    readonly backoffMaxMs?: number;
    readonly watchTimeoutSeconds?: number;
  };
}

export interface RequestOptions {
  readonly signal?: AbortSignal;
}

export interface ApplyResult<T extends KubeObject> {
  /** The object as written, or the cached live object when nothing was sent. */
  readonly object: T;
  /** False when the cache showed the live object already holds every desired field. */
  readonly applied: boolean;
}

export interface DeleteOptions extends RequestOptions {
  readonly propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
}

export interface KubeClient extends ListWatchSource {
  /** Where the credentials came from (`in-cluster` or the kubeconfig file). */
  readonly source: string;
  /** The namespace of the current context (the pod's own namespace in a cluster). */
  readonly namespace: string | undefined;
  /** `namespace` is `''` for a cluster-scoped kind; undefined when the object does not exist. */
  get<T extends KubeObject = KubeObject>(
    kind: ResourceKind,
    namespace: string,
    name: string,
    options?: RequestOptions,
  ): Promise<T | undefined>;
  /**
   * Server-side apply of `desired` (field manager, force), unless a synced informer of
   * its kind holds the object with every desired field already (field-subset.ts).
   */
  apply<T extends KubeObject>(desired: T, options?: RequestOptions): Promise<ApplyResult<T>>;
  /**
   * Merge-patches `status` onto the `/status` subresource of `obj` (as read from the
   * cache), unless it equals `obj.status` but for condition transition times.
   */
  patchStatus<T extends KubeObject>(obj: T, status: unknown, options?: RequestOptions): Promise<T>;
  /** Adds `finalizer` if missing. Undefined when the object is gone. */
  addFinalizer<T extends KubeObject>(
    obj: T,
    finalizer: string,
    options?: RequestOptions,
  ): Promise<T | undefined>;
  /** Removes `finalizer` if present. Undefined when the object is gone. */
  removeFinalizer<T extends KubeObject>(
    obj: T,
    finalizer: string,
    options?: RequestOptions,
  ): Promise<T | undefined>;
  /** False when there was nothing to delete. */
  delete(kind: ResourceKind, namespace: string, name: string, options?: DeleteOptions): Promise<boolean>;
  /** The shared informer of `kind` in `namespace` (all when omitted); start it to fill it. */
  informer<T extends KubeObject = KubeObject>(
    kind: ResourceKind,
    options?: { namespace?: string; labelSelector?: string },
  ): Informer<T>;
  readonly leases: LeaseApi;
  /** Closes every informer. */
  close(): Promise<void>;
}

export function createKubeClient(options: KubeClientOptions): KubeClient {
  const loaded = loadKubeConfig(options);
  const transport = createApiTransport(loaded.kubeConfig);
  const { metrics } = options;
  const fieldManager = options.fieldManager ?? defaultFieldManager;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger();
  const kinds = new Map<string, ResourceKind>();
  const kindId = (apiVersion: string, kind: string) => `${apiGroup(apiVersion)}/${kind}`;
  const learn = (kind: ResourceKind) => kinds.set(kindId(kind.apiVersion, kind.kind), kind);
  for (const kind of [...Object.values(builtinKinds), ...(options.kinds ?? [])]) learn(kind);
  const informers = new Map<string, Informer>();

  const count = (verb: WriteVerb, kind: string) => metrics.apiWrites.inc({ verb, kind });

  function kindOf(obj: KubeObject): ResourceKind {
    const kind = kinds.get(kindId(obj.apiVersion ?? '', obj.kind ?? ''));
    if (kind === undefined) throw new UnknownKindError(obj.apiVersion ?? '', obj.kind ?? '');
    return kind;
  }

  function pathOf(obj: KubeObject, subresource?: string): string {
    const meta = obj.metadata ?? {};
    return resourcePath(kindOf(obj), { namespace: meta.namespace, name: meta.name ?? '', subresource });
  }

  /** The live object from a synced informer that would hold it; undefined if none would. */
  function cached(obj: KubeObject): { live: KubeObject | undefined } | undefined {
    const kind = kindOf(obj);
    const id = kindId(kind.apiVersion, kind.kind);
    const ns = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    let absentFromFullView = false;
    for (const inf of informers.values()) {
      if (kindId(inf.kind.apiVersion, inf.kind.kind) !== id || !inf.hasSynced()) continue;
      if (kind.namespaced && inf.namespace !== undefined && inf.namespace !== ns) continue;
      const live = inf.get(kind.namespaced ? ns : '', name);
      if (live !== undefined) return { live };
      if (inf.labelSelector === undefined) absentFromFullView = true;
    }
    return absentFromFullView ? { live: undefined } : undefined;
  }

  const client: KubeClient = {
    source: loaded.source,
    namespace: loaded.namespace,

    async get<T extends KubeObject>(
      kind: ResourceKind,
      namespace: string,
      name: string,
      opts: RequestOptions = {},
    ) {
      learn(kind);
      try {
        const path = resourcePath(kind, { namespace, name });
        return (await transport.request({ method: 'GET', path, signal: opts.signal })) as T;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },

    async list<T extends KubeObject>(kind: ResourceKind, opts: ListOptions = {}): Promise<ObjectList<T>> {
      learn(kind);
      const path = resourcePath(kind, { namespace: opts.namespace });
      const body = (await transport.request({
        method: 'GET',
        path,
        query: { labelSelector: opts.labelSelector },
        signal: opts.signal,
      })) as { items?: T[] | null; metadata?: { resourceVersion?: string } };
      // List items carry no apiVersion and kind; give them theirs, as a watch does.
      const items = (body.items ?? []).map((item) => ({
        apiVersion: kind.apiVersion,
        kind: kind.kind,
        ...item,
      }));
      return { items, resourceVersion: body.metadata?.resourceVersion ?? '' };
    },

    watch<T extends KubeObject>(
      kind: ResourceKind,
      opts: WatchOptions,
      onEvent: (e: ObjectEvent<T>) => void,
    ) {
      learn(kind);
      const path = resourcePath(kind, { namespace: opts.namespace });
      const query = {
        resourceVersion: opts.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: opts.timeoutSeconds,
        labelSelector: opts.labelSelector,
      };
      return transport.watch(path, query, (e) => onEvent(e as ObjectEvent<T>), opts.signal);
    },

    async apply<T extends KubeObject>(desired: T, opts: RequestOptions = {}): Promise<ApplyResult<T>> {
      const kind = kindOf(desired);
      const view = cached(desired);
      if (view?.live !== undefined) {
        const drift = firstDifference(desired, view.live);
        if (drift === undefined) return { object: view.live as T, applied: false };
        logger.debug(
          { kind: kind.kind, key: objectKey(desired), field: drift },
          'apply: live object differs',
        );
      }
      count('apply', kind.kind);
      const object = (await transport.request({
        method: 'PATCH',
        path: pathOf(desired),
        query: { fieldManager, force: true },
        contentType: 'application/apply-patch+yaml',
        body: desired,
        signal: opts.signal,
      })) as T;
      return { object, applied: true };
    },

    async patchStatus<T extends KubeObject>(obj: T, status: unknown, opts: RequestOptions = {}): Promise<T> {
      if (statusEqual(obj.status, status)) return obj;
      count('patch_status', kindOf(obj).kind);
      return (await transport.request({
        method: 'PATCH',
        path: pathOf(obj, 'status'),
        contentType: 'application/merge-patch+json',
        body: { status: replacingMergePatch(obj.status, status) },
        signal: opts.signal,
      })) as T;
    },

    addFinalizer: (obj, finalizer, opts = {}) =>
      changeFinalizers(finalizers, obj, withFinalizer(finalizer), opts.signal),
    removeFinalizer: (obj, finalizer, opts = {}) =>
      changeFinalizers(finalizers, obj, withoutFinalizer(finalizer), opts.signal),

    async delete(kind, namespace, name, opts = {}) {
      learn(kind);
      count('delete', kind.kind);
      try {
        await transport.request({
          method: 'DELETE',
          path: resourcePath(kind, { namespace, name }),
          body: opts.propagationPolicy ? { propagationPolicy: opts.propagationPolicy } : undefined,
          signal: opts.signal,
        });
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },

    informer<T extends KubeObject>(
      kind: ResourceKind,
      opts: { namespace?: string; labelSelector?: string } = {},
    ) {
      learn(kind);
      const ns = opts.namespace === '' ? undefined : opts.namespace;
      const key = `${kind.apiVersion}/${kind.kind}|${ns ?? '*'}|${opts.labelSelector ?? ''}`;
      let informer = informers.get(key);
      if (informer === undefined) {
        informer = createInformer({
          kind,
          namespace: ns,
          labelSelector: opts.labelSelector,
          source: client,
          clock,
          metrics,
          logger,
          ...options.informers,
        });
        informers.set(key, informer);
      }
      return informer as unknown as Informer<T>;
    },

    leases: createLeaseApi(transport, (verb) => count(verb, builtinKinds.Lease.kind)),

    async close() {
      await Promise.all([...informers.values()].map((i) => i.close()));
    },
  };

  const finalizers: FinalizerPatcher = {
    reread: (obj, signal) =>
      client.get(kindOf(obj), obj.metadata?.namespace ?? '', obj.metadata?.name ?? '', { signal }),
    async jsonPatch(obj, ops, signal) {
      count('patch', kindOf(obj).kind);
      return (await transport.request({
        method: 'PATCH',
        path: pathOf(obj),
        contentType: 'application/json-patch+json',
        body: ops,
        signal,
      })) as KubeObject;
    },
  };

  return client;
}
