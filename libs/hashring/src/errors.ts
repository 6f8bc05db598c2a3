/**
 * Typed errors of the hash ring: membership that cannot be parsed or resolved,
 * lookups with no usable node, and failover that ran out of attempts.
 */
import { KrakenError } from '@kraken/foundation';

/** A ring member address or weight that cannot be used (bad host, port, scheme or duplicate). */
export class InvalidRingMemberError extends KrakenError {
  constructor(message: string, detail?: unknown) {
    super('KRAKEN_INVALID_RING_MEMBER', message, { statusCode: 400, detail });
  }
}

/** The ring has no node (or no healthy node) that can serve the key. */
export class NoHealthyNodeError extends KrakenError {
  readonly key: string;

  constructor(key: string, reason: 'empty' | 'unhealthy') {
    super(
      'KRAKEN_NO_HEALTHY_NODE',
      reason === 'empty'
        ? `hash ring has no members for key ${key}`
        : `no healthy ring member for key ${key}`,
      { statusCode: 503, detail: { key, reason } },
    );
    this.key = key;
  }
}

/** DNS lookup of the ring's membership failed; the previous members stay in use. */
export class MembershipResolveError extends KrakenError {
  constructor(name: string, cause: unknown) {
    super('KRAKEN_MEMBERSHIP_RESOLVE_FAILED', `resolving ring members from ${name} failed`, {
      statusCode: 503,
      cause,
      detail: { name },
    });
  }
}

/** An active health probe got a non-2xx answer or no answer in time. */
export class HealthProbeError extends KrakenError {
  constructor(url: string, reason: string, cause?: unknown) {
    super('KRAKEN_HEALTH_PROBE_FAILED', `health probe ${url} failed: ${reason}`, {
      statusCode: 503,
      cause,
      detail: { url, reason },
    });
  }
}

/** One failed attempt of a failover run. */
export interface FailedAttempt {
  readonly nodeId: string;
  readonly error: unknown;
}

/** Every node a failover run was allowed to try failed with a retryable error. */
export class FailoverExhaustedError extends KrakenError {
  readonly attempts: readonly FailedAttempt[];

  constructor(key: string, attempts: readonly FailedAttempt[]) {
    const tried = attempts.map((a) => a.nodeId).join(', ');
    super(
      'KRAKEN_FAILOVER_EXHAUSTED',
      `all ${attempts.length} attempts for key ${key} failed (tried ${tried})`,
      {
        statusCode: 503,
        cause: attempts.at(-1)?.error,
        detail: { key, nodes: attempts.map((a) => a.nodeId) },
      },
    );
    this.attempts = attempts;
  }
}
