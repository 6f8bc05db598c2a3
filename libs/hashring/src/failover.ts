/**
 * Client-side failover over a key's rendezvous order. Healthy nodes are tried
 * first, in order, then unhealthy ones as a last resort (health is a guess and may
 * be stale). Every node is tried at most once, the attempts are bounded, and each
 * outcome feeds passive health. There is no backoff: the next attempt goes to a
 * different node, so waiting would only add latency.
 */
import { FailoverExhaustedError, NoHealthyNodeError, type FailedAttempt } from './errors.js';
import { keyString, type RingKey } from './rendezvous.js';
import type { RingNode } from './ring-node.js';

/** What failover needs from a ring; a LiveRing fits. */
export interface FailoverRing {
  readonly replicas: number;
  ranked(key: RingKey): readonly RingNode[];
  isHealthy(nodeId: string): boolean;
  reportSuccess(nodeId: string): void;
  reportFailure(nodeId: string, error?: unknown): void;
}

export interface FailoverAttempt {
  /** 1-based attempt number. */
  readonly attempt: number;
  readonly signal: AbortSignal | undefined;
}

export interface FailoverOptions {
  /** Further nodes to try after the first one fails; default replicas - 1. */
  readonly retries?: number;
  /**
   * Whether an error may succeed on another node. Non-retryable errors (a bad
   * request, a missing blob) are rethrown at once and do not count against the
   * node's health. Default: every error is retryable.
   */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Stops between attempts; `fn` receives it to cancel the attempt in flight. */
  readonly signal?: AbortSignal;
  /** Called after each retryable failure, before the next attempt. */
  readonly onFailure?: (failure: FailedAttempt & { readonly attempt: number }) => void;
}

export interface FailoverResult<T> {
  readonly value: T;
  /** The node that answered. */
  readonly node: RingNode;
  readonly attempts: number;
  /** The attempts that failed before it. */
  readonly failures: readonly FailedAttempt[];
}

/** Candidates in trial order: healthy nodes in rendezvous order, then the rest. */
export function failoverOrder(ring: Pick<FailoverRing, 'ranked' | 'isHealthy'>, key: RingKey): RingNode[] {
  const ranked = ring.ranked(key);
  const healthy: RingNode[] = [];
  const unhealthy: RingNode[] = [];
  for (const node of ranked) (ring.isHealthy(node.id) ? healthy : unhealthy).push(node);
  return healthy.concat(unhealthy);
}

export async function runWithFailover<T>(
  ring: FailoverRing,
  key: RingKey,
  fn: (node: RingNode, attempt: FailoverAttempt) => Promise<T>,
  options: FailoverOptions = {},
): Promise<FailoverResult<T>> {
  const candidates = failoverOrder(ring, key);
  if (candidates.length === 0) throw new NoHealthyNodeError(keyString(key), 'empty');
  const retries = Math.max(0, Math.floor(options.retries ?? ring.replicas - 1));
  const limit = Math.min(candidates.length, retries + 1);
  const isRetryable = options.isRetryable ?? (() => true);
  const failures: FailedAttempt[] = [];

  for (let i = 0; i < limit; i++) {
    options.signal?.throwIfAborted();
    const node = candidates[i] as RingNode;
    try {
      const value = await fn(node, { attempt: i + 1, signal: options.signal });
      ring.reportSuccess(node.id);
      return { value, node, attempts: i + 1, failures };
    } catch (error) {
      // An abort is the caller's decision, not the node's fault.
      if (options.signal?.aborted === true || !isRetryable(error)) throw error;
      ring.reportFailure(node.id, error);
      failures.push({ nodeId: node.id, error });
      options.onFailure?.({ nodeId: node.id, error, attempt: i + 1 });
    }
  }
  throw new FailoverExhaustedError(keyString(key), failures);
}
