/**
 * Weighted rendezvous (highest-random-weight) hashing over an immutable member
 * set. Each node scores a key as -weight / ln(u), u being the node's uniform hash of
 * the key; the key's owners are the nodes with the highest scores. Adding or
 * removing a node only moves the keys that node wins or held, about 1/N of them,
 * and a node of weight w wins a share w / sum(weights) of keys.
 *
 * Node seeds and weights are precomputed into typed arrays when the ring is built,
 * so a lookup hashes the key once, scores into a reused buffer and allocates only
 * its result (`bench/ring-lookup.mjs`: about 1-2 µs for 3-10 nodes).
 */
import type { Digest } from '@kraken/oci-content';
import { InvalidRingMemberError } from './errors.js';
import { createKeyHasher, nodeSeed } from './key-hash.js';
import type { RingNode } from './ring-node.js';

/** A ring key: any string, or a parsed digest (hashed by its `algorithm:hex` value). */
export type RingKey = string | Pick<Digest, 'value'>;

export interface RingOptions {
  readonly nodes: readonly RingNode[];
  /** How many owners `owners(key)` returns by default. */
  readonly replicas: number;
}

export interface Ring {
  readonly replicas: number;
  /** Members sorted by id. */
  members(): readonly RingNode[];
  has(nodeId: string): boolean;
  /**
   * The first `n` (default: replicas) nodes in the key's rendezvous order. With
   * `accept`, nodes it rejects are skipped and the walk continues down the order,
   * so the result holds the first `n` accepted nodes (fewer if not enough exist).
   * `accept` must not call back into this ring: lookups share scratch space.
   */
  owners(key: RingKey, n?: number, accept?: (node: RingNode) => boolean): RingNode[];
  /** Every member in the key's rendezvous order, best first. */
  ranked(key: RingKey): RingNode[];
}

export function keyString(key: RingKey): string {
  return typeof key === 'string' ? key : key.value;
}

export function createRing(options: RingOptions): Ring {
  const { replicas } = options;
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw new InvalidRingMemberError(`replicas must be an integer >= 1, got ${replicas}`);
  }
  const nodes = [...options.nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (let i = 1; i < nodes.length; i++) {
    if (nodes[i]?.id === nodes[i - 1]?.id) {
      throw new InvalidRingMemberError(`ring member ${nodes[i]?.id} is listed twice`);
    }
  }
  Object.freeze(nodes);
  const count = nodes.length;
  const seedHi = new Uint32Array(count);
  const seedLo = new Uint32Array(count);
  const weights = new Float64Array(count);
  const ids = new Set<string>();
  nodes.forEach((node, i) => {
    const seed = nodeSeed(node.id);
    seedHi[i] = seed.hi;
    seedLo[i] = seed.lo;
    weights[i] = node.weight;
    ids.add(node.id);
  });
  const scores = new Float64Array(count);
  const hasher = createKeyHasher();

  // Fills `scores` for the key. Ties (equal weights and hashes: practically never)
  // are broken by id order, which `before` implements through the index.
  function score(key: RingKey): void {
    hasher.hashKey(keyString(key));
    for (let i = 0; i < count; i++) {
      const w = weights[i] as number;
      scores[i] = w === 0 ? 0 : -w / Math.log(hasher.unitScore(seedHi[i] as number, seedLo[i] as number));
    }
  }

  function before(a: number, b: number): boolean {
    const sa = scores[a] as number;
    const sb = scores[b] as number;
    return sa > sb || (sa === sb && a < b);
  }

  return {
    replicas,
    members: () => nodes,
    has: (nodeId) => ids.has(nodeId),
    owners(key, n = replicas, accept) {
      const want = Math.min(Math.floor(n), count);
      if (!(want > 0)) return [];
      score(key);
      // Partial selection: n is small (the replica count), so keep a sorted top-n
      // by insertion rather than sorting every member. The first n accepted nodes
      // in rendezvous order are exactly the top n among accepted nodes.
      const top: number[] = [];
      for (let i = 0; i < count; i++) {
        if (top.length === want && !before(i, top[want - 1] as number)) continue;
        if (accept !== undefined && !accept(nodes[i] as RingNode)) continue;
        let at = Math.min(top.length, want - 1);
        if (top.length < want) top.push(i);
        while (at > 0 && before(i, top[at - 1] as number)) {
          top[at] = top[at - 1] as number;
          at--;
        }
        top[at] = i;
      }
      return top.map((i) => nodes[i] as RingNode);
    },
    ranked(key) {
      if (count === 0) return [];
      score(key);
      return orderIndexes().map((i) => nodes[i] as RingNode);
    },
  };

  function orderIndexes(): number[] {
    const order = Array.from({ length: count }, (_, i) => i);
    return order.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
  }
}
