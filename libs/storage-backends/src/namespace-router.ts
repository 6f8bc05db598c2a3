/**
 * Namespace routing: an ordered list of `{namespace: regex, backend}` rules; the first
 * rule whose pattern matches the whole namespace (the repository, in practice) wins. A
 * namespace no rule matches is an error naming the namespace and the patterns, never a
 * silent default. Every routed backend runs behind its rule's resilience wrapper.
 *
 * A backend whose objects depend on the namespace (the registry backend maps blob keys
 * to `/v2/<repository>/blobs/...`) implements NamespaceAwareBackend; the router hands
 * out `forNamespace(namespace)` of it, and the same backend otherwise.
 */
import { z } from 'zod';
import type { BackendClock } from './backend-clock.js';
import { createBackend, storageBackendSchema, type StorageBackendConfig } from './backend-config.js';
import { NoBackendForNamespaceError, StorageUnavailableError } from './errors.js';
import {
  backendResilienceSchema,
  createResilientBackend,
  type ResilienceHooks,
} from './resilient-backend.js';
import type { StorageBackend } from './storage-backend.js';

/** A backend that serves different objects per namespace. */
export interface NamespaceAwareBackend extends StorageBackend {
  /** The backend's view for `namespace`; throws a typed error for a namespace it cannot serve. */
  forNamespace(namespace: string): StorageBackend;
}

export function isNamespaceAware(backend: StorageBackend): backend is NamespaceAwareBackend {
  return typeof (backend as Partial<NamespaceAwareBackend>).forNamespace === 'function';
}

const MAX_NAMESPACE_LENGTH = 4096;

function compilePattern(pattern: string): RegExp {
  // Anchored: `library/.*` must not also match `evil/library/x`.
  return new RegExp(`^(?:${pattern})$`, 'u');
}

export const namespaceRuleSchema = (options: { defaultRoot?: string } = {}) =>
  z
    .object({
      namespace: z
        .string()
        .min(1)
        .refine(
          (pattern) => {
            try {
              compilePattern(pattern);
              return true;
            } catch {
              return false;
            }
          },
          { message: 'not a valid regular expression' },
        )
        .describe('Regular expression (JavaScript syntax) that must match the whole namespace.'),
      backend: storageBackendSchema(options),
      resilience: backendResilienceSchema.prefault({}),
    })
    .strict()
    .describe('Namespaces matching `namespace` are stored in `backend`.');

/** The routing rules, in order; the default sends every namespace to the default backend. */
export const backendRoutingSchema = (options: { defaultRoot?: string } = {}) =>
  z
    .array(namespaceRuleSchema(options))
    .min(1)
    .prefault([{ namespace: '.*' }])
    .describe('Storage backends by namespace; the first rule whose pattern matches wins.');

export type NamespaceRuleConfig = z.output<ReturnType<typeof namespaceRuleSchema>>;
export type BackendRoutingConfig = z.output<ReturnType<typeof backendRoutingSchema>>;

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

export interface BackendRouterOptions {
  readonly clock?: BackendClock;
  readonly random?: () => number;
  readonly hooks?: ResilienceHooks;
  /** Builds a backend from its config (default: createBackend); for tests. */
  readonly createBackend?: (config: StorageBackendConfig) => StorageBackend;
}

/** Builds every rule's backend, each behind its own resilience wrapper. */
export function createBackendRouter(
  config: BackendRoutingConfig,
  options: BackendRouterOptions = {},
): BackendRouter {
  const build = options.createBackend ?? createBackend;
  const routes: NamespaceRoute[] = [];
  try {
    for (const rule of config) {
      routes.push({
        namespace: rule.namespace,
        backend: createResilientBackend({
          backend: build(rule.backend),
          config: rule.resilience,
          ...(options.clock ? { clock: options.clock } : {}),
          ...(options.random ? { random: options.random } : {}),
          ...(options.hooks ? { hooks: options.hooks } : {}),
        }),
      });
    }
  } catch (err) {
    // The backends built so far may hold connection pools.
    for (const route of routes) void route.backend.close().catch(() => {});
    throw err;
  }
  return createNamespaceRouter(routes);
}
