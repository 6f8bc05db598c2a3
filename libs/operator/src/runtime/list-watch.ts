/**
 * The two reads an informer is built on, a list and a watch of one kind, as the client
 * offers them. The informer takes only this much of the client, so a test can stand
 * between the two (to hand the watch a resourceVersion the server has forgotten).
 */
import type { KubeObject, ResourceKind } from './resource-kind.js';

export interface ListOptions {
  /** Omitted (or `''`) for all namespaces, or for a cluster-scoped kind. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly signal?: AbortSignal;
}

export interface WatchOptions extends ListOptions {
  /** Events after this resourceVersion (from a list, or the last event seen). */
  readonly resourceVersion: string;
  /** The server ends the watch after this long; the informer then resumes it. */
  readonly timeoutSeconds?: number;
}

export interface ObjectList<T extends KubeObject = KubeObject> {
  readonly items: T[];
  /** Where a watch that follows this list starts. */
  readonly resourceVersion: string;
}

export interface ObjectEvent<T extends KubeObject = KubeObject> {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  readonly object: T;
}

export interface ListWatchSource {
  list<T extends KubeObject = KubeObject>(kind: ResourceKind, options?: ListOptions): Promise<ObjectList<T>>;
  /**
   * Resolves when the server ends the watch or the signal aborts; rejects with a 410
   * KubeApiError when `resourceVersion` is too old, or with any other failure.
   */
  watch<T extends KubeObject = KubeObject>(
    kind: ResourceKind,
    options: WatchOptions,
    onEvent: (event: ObjectEvent<T>) => void,
  ): Promise<void>;
}
