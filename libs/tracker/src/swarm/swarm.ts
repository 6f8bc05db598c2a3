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

export class Swarm implements PeerGroups {
  /** Packed peers by handout position. */
  readonly handout: PackedPeer[] = [];
  /** Where the completed peers start in `handout`, and where the downloading ones do. */
  private completedStart = 0;
  private downloadingStart = 0;
  oldest: MemberRef = NONE;
  newest: MemberRef = NONE;
  readonly byPeer = new Map<PeerRef, MemberRef>();
  touchedAt: number;
  /** Neighbours in the store's order of swarms, least recently announced first. */
  older: Swarm | undefined = undefined;
  newer: Swarm | undefined = undefined;

  constructor(
    readonly key: string,
    private readonly members: MemberTable,
    now: number,
  ) {
    this.touchedAt = now;
  }

  get origins(): number {
    return this.completedStart;
  }

  get completed(): number {
    return this.downloadingStart - this.completedStart;
  }

  get size(): number {
    return this.handout.length;
  }

  /** The member's flags (COMPLETE, ORIGIN). */
  flagsOf(member: MemberRef): number {
    return flagsOf(this.handout[this.members.position[member] as number] as PackedPeer);
  }

  /** Adds a new member of `peer` as the newest. */
  add(member: MemberRef, peer: PeerRef, flags: number): void {
    this.byPeer.set(peer, member);
    this.insert(member, packPeer(peer, flags));
    this.append(member);
  }

  /** Takes the member out of both orders. */
  delete(member: MemberRef, peer: PeerRef): void {
    this.unlink(member);
    this.extract(member);
    this.byPeer.delete(peer);
  }

  /** The member announced again: it becomes the newest, with its flags as announced. */
  refresh(member: MemberRef, flags: number): void {
    const position = this.members.position[member] as number;
    const packed = this.handout[position] as PackedPeer;
    const before = flagsOf(packed);
    if (before !== flags) {
      if (groupOf(before) === groupOf(flags)) {
        this.handout[position] = packPeer(peerOf(packed), flags);
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
    const packed = this.handout[from] as PackedPeer;
    this.handout[to] = packed;
    this.members.position[this.byPeer.get(peerOf(packed)) as MemberRef] = to;
  }

  /** Puts the entry at the end of its group, moving the first entry of each later group to that group's end. */
  private insert(member: MemberRef, packed: PackedPeer): void {
    const group = groupOf(flagsOf(packed));
    const handout = this.handout;
    let hole = handout.length;
    handout.push(packed);
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
    handout[hole] = packed;
    this.members.position[member] = hole;
  }

  /** Takes the member's entry out of the handout array, filling its place from the end of each group. */
  private extract(member: MemberRef): void {
    const handout = this.handout;
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
    const last = handout.length - 1;
    if (last !== hole) this.move(last, hole);
    handout.pop();
  }
}
