/**
 * Swarm members as columns of typed arrays, indexed by a member number that is reused once
 * freed: 28 bytes a member, outside the garbage collector's heap, where an object per member
 * with its own strings costs ten times as much and a major collection would mark every one.
 * A member is one peer in one swarm: which peer and which swarm, when it last announced,
 * where its entry (peer and flags) sits in its swarm's handout array, and its neighbours in
 * its swarm's announce order.
 */

export type MemberRef = number;

/** No member: the end of a list. */
export const NONE = -1;

export const COMPLETE = 1;
export const ORIGIN = 2;

const INITIAL_CAPACITY = 1024;

export interface MemberTable {
  /** A free member number (the columns grow when none is left). */
  allocate(): MemberRef;
  release(member: MemberRef): void;
  readonly live: number;
  /** The member's peer record (peer-table.ts). */
  peer: Int32Array;
  /** The member's swarm number (Swarm.id). */
  swarm: Int32Array;
  seenAt: Float64Array;
  /** Index in the swarm's handout array. */
  position: Int32Array;
  /** The swarm's announce order, least recent first. */
  older: Int32Array;
  newer: Int32Array;
}

function grown<T extends Int32Array | Float64Array>(column: T, capacity: number): T {
  const next = new (column.constructor as new (n: number) => T)(capacity);
  next.set(column);
  return next;
}

export function createMemberTable(): MemberTable {
  let capacity = INITIAL_CAPACITY;
  let used = 0;
  let live = 0;
  // Freed members form a stack threaded through `newer`.
  let freeHead = NONE;

  const table: MemberTable = {
    peer: new Int32Array(capacity),
    swarm: new Int32Array(capacity),
    seenAt: new Float64Array(capacity),
    position: new Int32Array(capacity),
    older: new Int32Array(capacity),
    newer: new Int32Array(capacity),
    get live() {
      return live;
    },
    allocate() {
      live += 1;
      if (freeHead !== NONE) {
        const member = freeHead;
        freeHead = table.newer[member] as number;
        return member;
      }
      if (used === capacity) {
        capacity *= 2;
        table.peer = grown(table.peer, capacity);
        table.swarm = grown(table.swarm, capacity);
        table.seenAt = grown(table.seenAt, capacity);
        table.position = grown(table.position, capacity);
        table.older = grown(table.older, capacity);
        table.newer = grown(table.newer, capacity);
      }
      return used++;
    },
    release(member) {
      live -= 1;
      table.newer[member] = freeHead;
      freeHead = member;
    },
  };
  return table;
}
