/**
 * The member of a peer in a swarm, found in O(1): one open-addressing hash table over every
 * swarm, its slots a typed array of member numbers, keyed by the member's swarm and peer
 * columns (member-table.ts). A Map per swarm did the same on the garbage collector's heap:
 * some 40 bytes a member for each major collection to mark, and a fresh backing store each
 * time a swarm's map grew or filled with deleted entries, which the collector then had to
 * reclaim. Here a member costs 8 to 16 bytes outside the heap, and nothing is allocated
 * except when the table doubles.
 *
 * Linear probing, at most half full; a removal shifts the entries after it back (no
 * tombstones), so a lookup ends at the first empty slot.
 */
import { NONE, type MemberRef, type MemberTable } from './member-table.js';
import type { PeerRef } from './peer-table.js';

const INITIAL_SLOTS = 1024;

export interface MemberIndex {
  /** The member of `peer` in swarm `swarm`, or NONE. */
  find(swarm: number, peer: PeerRef): MemberRef;
  /** Indexes a member by its swarm and peer columns, which must be set and stay set until `remove`. */
  insert(member: MemberRef): void;
  remove(member: MemberRef): void;
  readonly size: number;
}

/** A 32-bit mix of the two numbers (multiplicative hashing; the high bits are the best mixed). */
const hashOf = (swarm: number, peer: number): number =>
  Math.imul(Math.imul(swarm, 0x9e3779b1) ^ peer, 0x85ebca6b) ^ (swarm >>> 7);

export function createMemberIndex(members: MemberTable): MemberIndex {
  let slots = new Int32Array(INITIAL_SLOTS).fill(NONE);
  let mask = INITIAL_SLOTS - 1;
  let size = 0;

  const home = (swarm: number, peer: number) => {
    const h = hashOf(swarm, peer);
    return (h ^ (h >>> 16)) & mask;
  };
  const homeOf = (member: MemberRef) => home(members.swarm[member] as number, members.peer[member] as number);

  const place = (member: MemberRef) => {
    let i = homeOf(member);
    while (slots[i] !== NONE) i = (i + 1) & mask;
    slots[i] = member;
  };

  const grow = () => {
    const old = slots;
    slots = new Int32Array(old.length * 2).fill(NONE);
    mask = slots.length - 1;
    for (const member of old) if (member !== NONE) place(member);
  };

  return {
    find(swarm, peer) {
      const { swarm: swarmOf, peer: peerOf } = members;
      for (let i = home(swarm, peer); ; i = (i + 1) & mask) {
        const member = slots[i] as number;
        if (member === NONE || (swarmOf[member] === swarm && peerOf[member] === peer)) return member;
      }
    },

    insert(member) {
      if ((size + 1) * 2 > slots.length) grow();
      place(member);
      size += 1;
    },

    remove(member) {
      let hole = homeOf(member);
      while (slots[hole] !== member) {
        if (slots[hole] === NONE) throw new Error(`member ${member} is not indexed`);
        hole = (hole + 1) & mask;
      }
      // Backward shift: an entry after the hole moves into it unless the hole lies before
      // its home slot (cyclically), where a lookup for it would not pass.
      for (let i = (hole + 1) & mask; slots[i] !== NONE; i = (i + 1) & mask) {
        const entry = slots[i] as number;
        const want = homeOf(entry);
        const reachable = hole <= i ? want <= hole || want > i : want <= hole && want > i;
        if (reachable) {
          slots[hole] = entry;
          hole = i;
        }
      }
      slots[hole] = NONE;
      size -= 1;
    },

    get size() {
      return size;
    },
  };
}
