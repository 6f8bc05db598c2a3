import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRingMemberError } from './errors.js';
import { createRing } from './rendezvous.js';
import { createRingNode, type RingNode } from './ring-node.js';

const KEY_COUNT = 65_536;
// Blob digests, as the ring sees them in production.
const keys = Array.from(
  { length: KEY_COUNT },
  (_, i) => `sha256:${createHash('sha256').update(`blob-${i}`).digest('hex')}`,
);

function node(i: number, weight = 1): RingNode {
  return createRingNode({ host: `10.0.${i >> 8}.${i & 255}`, port: 15002, weight });
}

function firstOwners(nodes: readonly RingNode[], sample: readonly string[]): string[] {
  const ring = createRing({ nodes, replicas: 1 });
  return sample.map((key) => ring.owners(key, 1)[0]?.id ?? '');
}

function counts(owners: readonly string[]): Map<string, number> {
  const result = new Map<string, number>();
  for (const id of owners) result.set(id, (result.get(id) ?? 0) + 1);
  return result;
}

// Distinct node indexes, so that generated members have distinct ids.
const nodeSet = (min: number, max: number) =>
  fc
    .uniqueArray(fc.integer({ min: 0, max: 4_000 }), { minLength: min, maxLength: max })
    .map((ids) => ids.map((i) => node(i)));

describe('rendezvous ring', () => {
  it('spreads 65,536 keys within ±10% of the mean over 10 equal nodes', () => {
    fc.assert(
      fc.property(nodeSet(10, 10), (nodes) => {
        const perNode = counts(firstOwners(nodes, keys));
        expect(perNode.size).toBe(10);
        const mean = KEY_COUNT / 10;
        for (const count of perNode.values()) {
          expect(Math.abs(count - mean)).toBeLessThanOrEqual(mean * 0.1);
        }
      }),
      { numRuns: 5 },
    );
  });

  it('moves only about 1/N of keys when a node joins, all of them to the new node', () => {
    const sample = keys.slice(0, 16_384);
    fc.assert(
      fc.property(nodeSet(4, 20), fc.integer({ min: 5_000, max: 6_000 }), (nodes, joiner) => {
        const newcomer = node(joiner);
        const before = firstOwners(nodes, sample);
        const after = firstOwners([...nodes, newcomer], sample);
        const n = nodes.length + 1;
        let moved = 0;
        let movedElsewhere = 0;
        before.forEach((owner, i) => {
          if (owner === after[i]) return;
          moved++;
          if (after[i] !== newcomer.id) movedElsewhere++;
        });
        expect(movedElsewhere).toBe(0);
        expect(moved / sample.length).toBeGreaterThanOrEqual(0.5 / n);
        expect(moved / sample.length).toBeLessThanOrEqual(1.5 / n);
      }),
      { numRuns: 10 },
    );
  });

  it('moves only the leaving node’s keys when a node leaves', () => {
    const sample = keys.slice(0, 16_384);
    fc.assert(
      fc.property(nodeSet(4, 20), fc.nat(), (nodes, pick) => {
        const leaver = nodes[pick % nodes.length] as RingNode;
        const before = firstOwners(nodes, sample);
        const after = firstOwners(
          nodes.filter((n) => n !== leaver),
          sample,
        );
        let moved = 0;
        let strayed = 0;
        before.forEach((owner, i) => {
          if (owner === leaver.id) moved++;
          // Keys whose owner is unaffected stay put.
          else if (after[i] !== owner) strayed++;
        });
        expect(strayed).toBe(0);
        expect(after).not.toContain(leaver.id);
        const n = nodes.length;
        expect(moved / sample.length).toBeGreaterThanOrEqual(0.5 / n);
        expect(moved / sample.length).toBeLessThanOrEqual(1.5 / n);
      }),
      { numRuns: 10 },
    );
  });

  it('gives each node a share of keys roughly proportional to its weight', () => {
    const nodes = [node(1, 1), node(2, 2), node(3, 3), node(4, 4)];
    const perNode = counts(firstOwners(nodes, keys));
    for (const n of nodes) {
      const expected = (KEY_COUNT * n.weight) / 10;
      expect(Math.abs((perNode.get(n.id) ?? 0) - expected)).toBeLessThanOrEqual(expected * 0.1);
    }
  });

  it('never picks a zero-weight node while another node remains', () => {
    const nodes = [node(1, 0), node(2), node(3)];
    const ring = createRing({ nodes, replicas: 2 });
    for (const key of keys.slice(0, 2_000)) {
      expect(ring.owners(key).map((n) => n.id)).not.toContain(nodes[0]?.id);
      expect(ring.ranked(key).at(-1)?.id).toBe(nodes[0]?.id);
    }
  });

  it('returns the same distinct owners, a prefix of the full order, whatever the member order', () => {
    fc.assert(
      fc.property(nodeSet(1, 12), fc.string(), fc.integer({ min: 1, max: 5 }), (nodes, key, replicas) => {
        const ring = createRing({ nodes, replicas });
        const shuffled = createRing({ nodes: [...nodes].reverse(), replicas });
        const owners = ring.owners(key);
        expect(owners).toHaveLength(Math.min(replicas, nodes.length));
        expect(new Set(owners.map((n) => n.id)).size).toBe(owners.length);
        expect(shuffled.owners(key).map((n) => n.id)).toEqual(owners.map((n) => n.id));
        expect(ring.ranked(key).slice(0, owners.length)).toEqual(owners);
        expect(ring.ranked(key)).toHaveLength(nodes.length);
      }),
    );
  });

  it('returns the first n accepted nodes of the full order', () => {
    fc.assert(
      fc.property(
        nodeSet(1, 12),
        fc.string(),
        fc.integer({ min: 0, max: 6 }),
        fc.nat(),
        (nodes, key, n, mask) => {
          const ring = createRing({ nodes, replicas: 3 });
          const accept = (candidate: RingNode): boolean => ((mask >> nodes.indexOf(candidate)) & 1) === 1;
          expect(ring.owners(key, n, accept)).toEqual(ring.ranked(key).filter(accept).slice(0, n));
        },
      ),
    );
  });

  it('walks down the order past rejected nodes', () => {
    const nodes = Array.from({ length: 6 }, (_, i) => node(i));
    const ring = createRing({ nodes, replicas: 3 });
    const key = keys[7] as string;
    const order = ring.ranked(key);
    const down = new Set([order[0]?.id, order[2]?.id]);
    const owners = ring.owners(key, 3, (n) => !down.has(n.id));
    expect(owners).toEqual([order[1], order[3], order[4]]);
    expect(ring.owners(key, 3, () => false)).toEqual([]);
    expect(ring.owners(key, Number.NaN)).toEqual([]);
    expect(ring.owners(key, 2.7)).toEqual(order.slice(0, 2));
  });

  it('hashes a digest by its value and handles an empty ring', () => {
    const ring = createRing({ nodes: [node(1), node(2), node(3)], replicas: 2 });
    const value = keys[0] as string;
    expect(ring.owners({ value })).toEqual(ring.owners(value));
    expect(ring.has(node(2).id)).toBe(true);
    expect(ring.members().map((n) => n.id)).toEqual([node(1).id, node(2).id, node(3).id].sort());
    const empty = createRing({ nodes: [], replicas: 3 });
    expect(empty.owners(value)).toEqual([]);
    expect(empty.ranked(value)).toEqual([]);
  });

  it('rejects duplicate members and bad replica counts', () => {
    expect(() => createRing({ nodes: [node(1), node(1)], replicas: 1 })).toThrow(InvalidRingMemberError);
    expect(() => createRing({ nodes: [node(1)], replicas: 0 })).toThrow(InvalidRingMemberError);
    expect(() => createRing({ nodes: [node(1)], replicas: 1.5 })).toThrow(InvalidRingMemberError);
  });
});
