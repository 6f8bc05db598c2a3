/**
 * Namespace routing: an ordered list of `{namespace: regex, backend}` routes; the first
 * route whose pattern matches the whole namespace (the repository, in practice) wins. A
 * namespace no route matches is an error naming the namespace and the patterns, never
 * a silent default. The router takes backends already built: backend-router.ts builds
 * them from config and injects them.
 *
 * A NamespaceAwareBackend (the registry backend maps blob keys to
 * `/v2/<repository>/blobs/...`) is handed out as its `forNamespace(namespace)` view,
 * any other backend as it is.
 */
import { NoBackendForNamespaceError, StorageUnavailableError } from '../errors.js';
import { isNamespaceAware, type StorageBackend } from '../storage-backend.js';

const MAX_NAMESPACE_LENGTH = 4096;

/** A rule's pattern as a RegExp; throws for invalid syntax. */
export function compilePattern(pattern: string): RegExp {
  // Anchored: `library/.*` must not also match `evil/library/x`.
  return new RegExp(`^(?:${pattern})$`, 'u');
}

export interface BackendRouter {
  /** The backend for `namespace`; throws NoBackendForNamespaceError when no rule matches. */
  forNamespace(namespace: string): StorageBackend;
  /** One backend per rule, in rule order (readiness checks, metrics labels). */
  readonly backends: readonly StorageBackend[];
  /** Checks every backend; the error names each one that failed. */
  check(signal?: AbortSignal): Promise<void>;
  /** Closes every backend; idempotent. */
  close(): Promise<void>;
}

export interface NamespaceRoute {
  readonly namespace: string;
  readonly backend: StorageBackend;
}

/** Routes over already built backends (what createBackendRouter builds from config). */
export function createNamespaceRouter(routes: readonly NamespaceRoute[]): BackendRouter {
  const compiled = routes.map((r) => ({ pattern: compilePattern(r.namespace), backend: r.backend }));
  const patterns = routes.map((r) => r.namespace);
  const backends = routes.map((r) => r.backend);
  let closing: Promise<void> | undefined;

  return {
    backends,

    forNamespace(namespace) {
      if (typeof namespace !== 'string' || namespace.length === 0 || namespace.length > MAX_NAMESPACE_LENGTH)
        throw new NoBackendForNamespaceError(String(namespace), patterns);
      const route = compiled.find((r) => r.pattern.test(namespace));
      if (route === undefined) throw new NoBackendForNamespaceError(namespace, patterns);
      return isNamespaceAware(route.backend) ? route.backend.forNamespace(namespace) : route.backend;
    },

    async check(signal) {
      const results = await Promise.allSettled(backends.map((b) => b.check(signal)));
      const failed = results.flatMap((r, i) =>
        r.status === 'rejected' ? [{ r, backend: backends[i] }] : [],
      );
      const [first] = failed;
      if (first === undefined) return;
      if (failed.length === 1 && first.r.reason instanceof StorageUnavailableError) throw first.r.reason;
      const reasons = failed.map(({ r, backend }) => {
        const message = r.reason instanceof Error ? r.reason.message : String(r.reason);
        return message.includes(backend?.name ?? '') ? message : `${backend?.name}: ${message}`;
      });
      throw new StorageUnavailableError(
        failed.map((f) => f.backend?.name).join(', '),
        new AggregateError(
          failed.map((f) => f.r.reason as unknown),
          reasons.join('; '),
        ),
      );
    },

    close() {
      closing ??= Promise.allSettled(backends.map((b) => b.close())).then((results) => {
        const failure = results.find((r) => r.status === 'rejected');
        if (failure) throw failure.reason;
      });
      return closing;
    },
  };
}
