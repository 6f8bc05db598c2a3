/**
 * Walking a blob's origins in rendezvous order until one has it. Unlike plain
 * failover, "not found" moves the walk on too: an owner that was down during a push,
 * or has just joined the ring, may lack a blob its co-owners hold. A 404 is not the
 * node's fault, so it does not count against its health; errors of the node do.
 */
import {
  FailoverExhaustedError,
  NoHealthyNodeError,
  failoverOrder,
  type FailedAttempt,
  type FailoverRing,
  type RingNode,
} from '@kraken/hashring';
import { KrakenError } from '@kraken/foundation';

export interface OwnerWalkOptions {
  /** Nodes asked at most. */
  readonly maxAttempts: number;
  /** Node ids not to ask (they failed earlier in the same operation). */
  readonly exclude?: ReadonlySet<string>;
  readonly signal?: AbortSignal | undefined;
}

export interface Found<T> {
  readonly value: T;
  readonly node: RingNode;
}

/**
 * Asks nodes in failover order (healthy ones first) until `fn` returns a value.
 * Resolves undefined when at least one node answered "not found" and none had it;
 * throws FailoverExhaustedError when every node asked failed, and rethrows at once an
 * error that another node would give as well (a bad request).
 */
export async function findOnOwners<T>(
  ring: FailoverRing,
  key: string,
  fn: (node: RingNode, signal: AbortSignal | undefined) => Promise<T | undefined>,
  options: OwnerWalkOptions,
): Promise<Found<T> | undefined> {
  const candidates = failoverOrder(ring, key).filter((node) => options.exclude?.has(node.id) !== true);
  if (candidates.length === 0) throw new NoHealthyNodeError(key, 'empty');
  const failures: FailedAttempt[] = [];
  let notFound = 0;
  let attempts = 0;
  for (const node of candidates) {
    if (attempts >= options.maxAttempts) break;
    // Unhealthy nodes come last. They are worth a try when nobody answered, not to
    // look for a copy that healthy owners already said they lack.
    if (notFound > 0 && !ring.isHealthy(node.id)) break;
    options.signal?.throwIfAborted();
    attempts++;
    try {
      const value = await fn(node, options.signal);
      ring.reportSuccess(node.id);
      if (value !== undefined) return { value, node };
      notFound++;
    } catch (error) {
      if (options.signal?.aborted === true || !isRetryableOriginError(error)) throw error;
      ring.reportFailure(node.id, error);
      failures.push({ nodeId: node.id, error });
    }
  }
  if (notFound > 0) return undefined;
  throw new FailoverExhaustedError(key, failures);
}

/**
 * Whether another origin may succeed where this one failed: it was unreachable,
 * overloaded or broken (5xx, 429), or the exchange broke off. A 4xx answer (bad
 * digest, bad range, too large) would be the same everywhere.
 */
export function isRetryableOriginError(error: unknown): boolean {
  if (error instanceof FailoverExhaustedError) return false;
  if (error instanceof KrakenError) {
    const status = error.statusCode ?? 500;
    return status >= 500 || status === 429;
  }
  return true;
}
