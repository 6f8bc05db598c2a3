import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemberIndex } from './member-index.js';
import { NONE, createMemberTable } from './member-table.js';

/** A table and index with members added by (swarm, peer), and a Map as the model. */
function setup() {
  const members = createMemberTable();
  const index = createMemberIndex(members);
  const model = new Map<string, number>();
  const add = (swarm: number, peer: number) => {
    const member = members.allocate();
    members.swarm[member] = swarm;
    members.peer[member] = peer;
    index.insert(member);
    model.set(`${swarm}/${peer}`, member);
    return member;
  };
  const remove = (swarm: number, peer: number) => {
    const member = model.get(`${swarm}/${peer}`) as number;
    index.remove(member);
    members.release(member);
    model.delete(`${swarm}/${peer}`);
  };
  return { members, index, model, add, remove };
}

describe('member index', () => {
  it('finds each member by swarm and peer, and nothing for pairs never added', () => {
    const { index, add } = setup();
    const a = add(1, 7);
    const b = add(2, 7);
    const c = add(1, 8);
    expect([index.find(1, 7), index.find(2, 7), index.find(1, 8)]).toEqual([a, b, c]);
    expect(index.find(2, 8)).toBe(NONE);
    expect(index.find(0, 0)).toBe(NONE);
    expect(index.size).toBe(3);
  });

  it('keeps every member findable through growth and removals (20,000 members, half removed)', () => {
    const { index, model, add, remove } = setup();
    for (let swarm = 0; swarm < 100; swarm++) for (let peer = 0; peer < 200; peer++) add(swarm, peer);
    for (let swarm = 0; swarm < 100; swarm++) for (let peer = 0; peer < 200; peer += 2) remove(swarm, peer);
    expect(index.size).toBe(10_000);
    for (let swarm = 0; swarm < 100; swarm++) {
      for (let peer = 0; peer < 200; peer++) {
        expect(index.find(swarm, peer)).toBe(model.get(`${swarm}/${peer}`) ?? NONE);
      }
    }
  });

  it('throws on removing a member that is not indexed, leaving the others in place', () => {
    const { members, index, add } = setup();
    const a = add(3, 4);
    const stray = members.allocate();
    members.swarm[stray] = 3;
    members.peer[stray] = 5;
    expect(() => index.remove(stray)).toThrow(/not indexed/);
    expect(index.find(3, 4)).toBe(a);
  });

  it('agrees with a Map under any sequence of adds and removes, member numbers reused', () => {
    // Few swarms and peers: many collisions, long probe runs, removals inside and across them.
    const op = fc.record({
      add: fc.boolean(),
      swarm: fc.integer({ min: 0, max: 40 }),
      peer: fc.integer({ min: 0, max: 60 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
        const { index, model, add, remove } = setup();
        for (const { add: adding, swarm, peer } of ops) {
          const present = model.has(`${swarm}/${peer}`);
          if (adding && !present) add(swarm, peer);
          if (!adding && present) remove(swarm, peer);
        }
        expect(index.size).toBe(model.size);
        for (let swarm = 0; swarm <= 40; swarm++) {
          for (let peer = 0; peer <= 60; peer++) {
            expect(index.find(swarm, peer)).toBe(model.get(`${swarm}/${peer}`) ?? NONE);
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
