/**
 * The storage backend interface: a flat key space of immutable-once-written objects.
 * Keys are '/'-separated relative paths of safe segments ([A-Za-z0-9._-], no '.' or
 * '..'); backends reject anything else with InvalidKeyError before touching storage.
 * "Not found" is always ObjectNotFoundError (or `undefined` from `stat`).
 *
 * A backend whose objects depend on the namespace (the registry backend maps blob keys
 * to `/v2/<repository>/blobs/...`) is a NamespaceAwareBackend: the namespace router
 * hands out its `forNamespace(namespace)` view, and the resilience wrapper keeps it so.
 */
import type { Readable } from 'node:stream';

/** An inclusive byte range, as in HTTP's `Range: bytes=start-end`. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface ObjectStat {
  readonly size: number;
  readonly modifiedAt: Date;
}

export interface ListPage {
  readonly keys: string[];
  /** Pass back as `continuationToken` for the next page; undefined on the last page. */
  readonly continuationToken: string | undefined;
}

export interface ListOptions {
  /** Only keys starting with this prefix. */
  readonly prefix?: string;
  /** Page size (default 1000). */
  readonly limit?: number;
  readonly continuationToken?: string;
}

export interface StorageBackend {
  /** Name for logs, metrics and readiness reports, e.g. "fs:/var/lib/kraken". */
  readonly name: string;
  stat(key: string): Promise<ObjectStat | undefined>;
  /**
   * Streams the object or an inclusive byte range of it; rejects with ObjectNotFoundError.
   * An `end` past the object is clamped to its last byte; a `start` past it (or an end
   * before the start) rejects with InvalidRangeError.
   */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /**
   * Writes the whole stream as the object's content. The object becomes visible only
   * once complete and durable; a failed or aborted write leaves nothing behind.
   */
  write(key: string, source: Readable, options?: { signal?: AbortSignal }): Promise<ObjectStat>;
  /** Keys in lexical order, paginated. */
  list(options?: ListOptions): Promise<ListPage>;
  /** Returns false when the key did not exist. */
  delete(key: string): Promise<boolean>;
  /** Verifies the backend is reachable and usable (readiness). */
  check(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** A backend that serves different objects per namespace. */
export interface NamespaceAwareBackend extends StorageBackend {
  /** The backend's view for `namespace`; throws a typed error for a namespace it cannot serve. */
  forNamespace(namespace: string): StorageBackend;
}

export function isNamespaceAware(backend: StorageBackend): backend is NamespaceAwareBackend {
  return typeof (backend as Partial<NamespaceAwareBackend>).forNamespace === 'function';
}
