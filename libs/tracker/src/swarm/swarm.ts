/**
 * One swarm's members, kept in two orders so that every operation an announce needs is O(1):
 *
 * - the handout array, grouped: origins, then completed peers, then peers still downloading.
 *   A tier of the handout is a range of positions, which the policy samples in O(peers handed
 *   out). Each entry packs the member's peer and flags, so a handout reads this array and the
 *   peer records (a few per agent, warm in cache) and never the member columns. Adding,
 *   removing or regrouping a member moves at most one member per group.
 * - the announce order, least recent first, a list threaded through the member table: the
 *   oldest member is the one that expires first and the one that gives way past the bound.
 *
 * Both live in typed arrays, outside the garbage collector's heap: a swarm is a few objects
 * whatever its size. Finding a peer's member is the store's (member-index.ts).
 */
import type { PeerGroups } from '../peer-policy.js';
import { COMPLETE, NONE, ORIGIN, type MemberRef, type MemberTable } from './member-table.js';
import type { PeerRef } from './peer-table.js';

/** A handout entry: the peer and its flags in one small integer. */
export type PackedPeer = number;

export const packPeer = (peer: PeerRef, flags: number): PackedPeer => peer * 4 + flags;
export const peerOf = (packed: PackedPeer): PeerRef => packed >>> 2;
export const flagsOf = (packed: PackedPeer): number => packed & 3;

const groupOf = (flags: number) => ((flags & ORIGIN) !== 0 ? 0 : (flags & COMPLETE) !== 0 ? 1 : 2);

const INITIAL_CAPACITY = 4;

/** A copy of the first `used` entries of `column` with room for `capacity`. */
function resized(column: Int32Array, capacity: number, used: number): Int32Array<ArrayBuffer> {
  const next = new Int32Array(capacity);
  next.set(column.subarray(0, used));
  return next;
}

export class Swarm implements PeerGroups {
  /** Packed peers by handout position; `size` of them are in use. */
  private entries = new Int32Array(INITIAL_CAPACITY);
  /** The member at each handout position. */
  private holders = new Int32Array(INITIAL_CAPACITY);
  private used = 0;
  /** Where the completed peers start in the handout array, and where the downloading ones do. */
  private completedStart = 0;
  private downloadingStart = 0;
  oldest: MemberRef = NONE;
  newest: MemberRef = NONE;
  touchedAt: number;
  /** Neighbours in the store's order of swarms, least recently announced first. */
  older: Swarm | undefined = undefined;
  newer: Swarm | undefined = undefined;

  constructor(
    readonly key: string,
    /** The swarm's number in the member table's `swarm` column, unique among live swarms. */
    readonly id: number,
    private readonly members: MemberTable,
    now: number,
  ) {
    this.touchedAt = now;
  }

  /** The packed peer at a handout position (below `size`). */
  at(position: number): PackedPeer {
    return this.entries[position] as PackedPeer;
  }

  get origins(): number {
    return this.completedStart;
  }

  get completed(): number {
    return this.downloadingStart - this.completedStart;
  }

  get size(): number {
    return this.used;
  }

  /** The packed peer of a member of this swarm. */
  packedOf(member: MemberRef): PackedPeer {
    return this.at(this.members.position[member] as number);
  }

  /** Adds a new member (its peer set in the member table) as the newest. */
  add(member: MemberRef, flags: number): void {
    this.insert(member, packPeer(this.members.peer[member] as PeerRef, flags));
    this.append(member);
  }

  /** Takes the member out of both orders. */
  delete(member: MemberRef): void {
    this.unlink(member);
    this.extract(member);
  }

  /** The member announced again: it becomes the newest, with its flags as announced. */
  refresh(member: MemberRef, flags: number): void {
    const position = this.members.position[member] as number;
    const packed = this.at(position);
    const before = flagsOf(packed);
    if (before !== flags) {
      if (groupOf(before) === groupOf(flags)) {
        this.entries[position] = packPeer(peerOf(packed), flags);
      } else {
        this.extract(member);
        this.insert(member, packPeer(peerOf(packed), flags));
      }
    }
    if (this.newest !== member) {
      this.unlink(member);
      this.append(member);
    }
  }

  private append(member: MemberRef): void {
    const table = this.members;
    table.older[member] = this.newest;
    table.newer[member] = NONE;
    if (this.newest === NONE) this.oldest = member;
    else table.newer[this.newest] = member;
    this.newest = member;
  }

  private unlink(member: MemberRef): void {
    const table = this.members;
    const older = table.older[member] as number;
    const newer = table.newer[member] as number;
    if (older === NONE) this.oldest = newer;
    else table.newer[older] = newer;
    if (newer === NONE) this.newest = older;
    else table.older[newer] = older;
  }

  /** Moves the entry at `from` to `to` (a hole), telling its member. */
  private move(from: number, to: number): void {
    const holder = this.holders[from] as MemberRef;
    this.entries[to] = this.entries[from] as PackedPeer;
    this.holders[to] = holder;
    this.members.position[holder] = to;
  }

  /** Puts the entry at the end of its group, moving the first entry of each later group to that group's end. */
  private insert(member: MemberRef, packed: PackedPeer): void {
    const group = groupOf(flagsOf(packed));
    if (this.used === this.entries.length) this.resize(this.entries.length * 2);
    let hole = this.used++;
    if (group < 2) {
      const first = this.downloadingStart;
      if (first !== hole) this.move(first, hole);
      hole = first;
      this.downloadingStart += 1;
    }
    if (group < 1) {
      const first = this.completedStart;
      if (first !== hole) this.move(first, hole);
      hole = first;
      this.completedStart += 1;
    }
    this.entries[hole] = packed;
    this.holders[hole] = member;
    this.members.position[member] = hole;
  }

  private resize(capacity: number): void {
    this.entries = resized(this.entries, capacity, this.used);
    this.holders = resized(this.holders, capacity, this.used);
  }

  /** Takes the member's entry out of the handout array, filling its place from the end of each group. */
  private extract(member: MemberRef): void {
    let hole = this.members.position[member] as number;
    const group = hole < this.completedStart ? 0 : hole < this.downloadingStart ? 1 : 2;
    if (group === 0) {
      const last = this.completedStart - 1;
      if (last !== hole) this.move(last, hole);
      hole = last;
      this.completedStart -= 1;
    }
    if (group <= 1) {
      const last = this.downloadingStart - 1;
      if (last !== hole) this.move(last, hole);
      hole = last;
      this.downloadingStart -= 1;
    }
    const last = this.used - 1;
    if (last !== hole) this.move(last, hole);
    this.used = last;
    // A swarm that shrank a lot gives its memory back (a quarter full, so that a swarm
    // hovering at one size does not copy back and forth).
    if (this.used * 4 < this.entries.length && this.entries.length > INITIAL_CAPACITY * 16) {
      this.resize(this.entries.length / 2);
    }
  }
}
