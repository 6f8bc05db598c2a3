/**
 * Typed errors of the operator lib. Each area keeps its errors in its own section.
 */
import { KrakenError } from '@kraken/foundation';

// --- controller runtime: credentials, the API server, leader election ---

/** No source of Kubernetes credentials worked; `tried` says what was looked at, in order. */
export class KubeConfigUnavailableError extends KrakenError {
  readonly tried: readonly string[];

  constructor(tried: readonly string[], cause?: unknown) {
    super('KRAKEN_KUBECONFIG_UNAVAILABLE', `no usable Kubernetes credentials (tried: ${tried.join('; ')})`, {
      cause,
      detail: { tried },
    });
    this.tried = tried;
  }
}

/** What the API server's Status body said about a failed request. */
export interface KubeApiFailure {
  readonly method: string;
  readonly path: string;
  /** The HTTP status, or the `code` of a watch ERROR event. */
  readonly status: number;
  /** The Status `reason` (`NotFound`, `Conflict`, `AlreadyExists`, `Expired`, `Invalid`, ...). */
  readonly reason: string;
  readonly message: string;
}

/** The API server answered a request with an error status (or a watch with an ERROR event). */
export class KubeApiError extends KrakenError {
  readonly status: number;
  readonly reason: string;

  constructor(failure: KubeApiFailure) {
    super(
      'KRAKEN_KUBE_API_ERROR',
      `${failure.method} ${failure.path}: ${failure.status} ${failure.reason}: ${failure.message}`,
      { statusCode: failure.status, detail: failure },
    );
    this.status = failure.status;
    this.reason = failure.reason;
  }
}

/** The API server could not be reached, or the exchange broke before an answer. */
export class KubeApiUnreachableError extends KrakenError {
  constructor(method: string, path: string, cause: unknown) {
    super(
      'KRAKEN_KUBE_API_UNREACHABLE',
      `${method} ${path}: API server unreachable: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause, detail: { method, path } },
    );
  }
}

/** An object whose apiVersion and kind the client has no resource path for. */
export class UnknownKindError extends KrakenError {
  constructor(apiVersion: string, kind: string) {
    super(
      'KRAKEN_KUBE_UNKNOWN_KIND',
      `no resource known for ${apiVersion} ${kind}; pass its ResourceKind to createKubeClient({ kinds })`,
      { detail: { apiVersion, kind } },
    );
  }
}

/** Leadership ended without a release: renewal failed past the deadline, or another holder took the Lease. */
export class LeadershipLostError extends KrakenError {
  constructor(lease: string, reason: string) {
    super('KRAKEN_LEADERSHIP_LOST', `leadership of Lease ${lease} lost: ${reason}`, {
      detail: { lease, reason },
    });
  }
}

/** True for a 404 from the API server. */
export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}

/** True for a 409 (a resourceVersion precondition failed, or the object exists already). */
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409;
}

/** True for a 410: the resourceVersion a watch or list asked for is no longer available. */
export function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 410;
}

// --- API types, CRDs and rendering: invalid specs, schemas without a structural form ---

/** One problem of a spec, by the field's path in the object (`spec.origins.replicas`). */
export interface SpecIssue {
  readonly field: string;
  readonly message: string;
}

/**
 * A KrakenCluster or ReplicationRule that cannot be rendered: it fails its schema, or
 * fields contradict each other. `field` is the first offending field, for a condition
 * message; `issues` has every one found. Nothing is rendered when this is thrown.
 */
export class InvalidSpecError extends KrakenError {
  readonly kind: string;
  readonly field: string;
  readonly issues: readonly SpecIssue[];

  constructor(kind: string, issues: readonly SpecIssue[]) {
    const first = issues[0] ?? { field: 'spec', message: 'invalid' };
    super(
      'KRAKEN_OPERATOR_INVALID_SPEC',
      `invalid ${kind}: ${issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ')}`,
      { statusCode: 422, detail: { kind, issues } },
    );
    this.kind = kind;
    this.field = first.field;
    this.issues = issues;
  }
}

/** A zod schema that has no Kubernetes structural form; `path` is where in the JSON Schema. */
export class UnsupportedSchemaError extends KrakenError {
  readonly path: string;

  constructor(path: string, reason: string) {
    super('KRAKEN_CRD_SCHEMA_UNSUPPORTED', `no structural form for the schema at ${path}: ${reason}`, {
      detail: { path, reason },
    });
    this.path = path;
  }
}
