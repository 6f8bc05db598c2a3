/**
 * Interned peers: one record per peer id, shared by every swarm the peer is in (an agent is in
 * as many swarms as it has active blobs, an origin in thousands), holding its address and its
 * entry in an announce answer, encoded once. Records are counted by the members that refer to
 * them and are freed with the last one.
 *
 * An answer is the join of the entries of the peers handed out: each entry is a string made
 * once per peer, flags (two at most in practice) and format (JSON, or the binary record of
 * @kraken/p2p-core's announce-binary.ts held as a latin1 string), so an answer costs no object
 * per peer and no encoding. The entries sit in one array by record number, format and flags:
 * a handout reaches each with one lookup, not through the record.
 *
 * A peer id names one process, which listens on one P2P address; when a peer announces a new
 * address, its record (and so every swarm it is in) takes the new one. Records that share an
 * address know each other, so that a handout leaves out a restarted requester's old id by
 * comparing record numbers.
 */

import { encodeAnnouncedPeer } from '@kraken/p2p-core';

export type PeerRef = number;

/** How an entry is encoded: JSON (an AnnouncedPeer), or its binary record as a latin1 string. */
export type EntryFormat = 'json' | 'binary';

export interface PeerTable {
  /** The record of `peerId` with this address, created or updated; not counted until `retain`. */
  intern(peerId: string, host: string, port: number): PeerRef;
  /** The record of `peerId`, or -1. */
  find(peerId: string): PeerRef;
  /** The records announcing this record's address, itself included. */
  sameAddress(ref: PeerRef): readonly PeerRef[];
  /** The records announcing this address (the host compared in lower case), if any. */
  withAddress(host: string, port: number): readonly PeerRef[] | undefined;
  retain(ref: PeerRef): void;
  /** Drops one reference; the record is freed with the last. */
  release(ref: PeerRef): void;
  peerId(ref: PeerRef): string;
  host(ref: PeerRef): string;
  port(ref: PeerRef): number;
  /** The peer's entry in an announce answer with these flags, in `format`. */
  entry(ref: PeerRef, flags: number, format: EntryFormat): string;
  readonly size: number;
}

interface PeerRecord {
  readonly peerId: string;
  host: string;
  port: number;
  address: string;
  /** Every record with this address, this one included; shared by them. */
  sharing: PeerRef[];
  refs: number;
}

/** Flag bits, as the member table has them. */
const COMPLETE = 1;
const ORIGIN = 2;
const FLAG_VARIANTS = 4;
/** Entries per record: each flags variant in each format. */
const ENTRY_VARIANTS = FLAG_VARIANTS * 2;

const addressKey = (host: string, port: number) => `${host.toLowerCase()}/${port}`;

export function createPeerTable(): PeerTable {
  const records: (PeerRecord | undefined)[] = [];
  const free: PeerRef[] = [];
  const byId = new Map<string, PeerRef>();
  const byAddress = new Map<string, PeerRef[]>();
  /** Entries by record × ENTRY_VARIANTS + format × FLAG_VARIANTS + flags, made when first handed out. */
  const entries: (string | undefined)[] = [];
  const forgetEntries = (ref: PeerRef) => {
    for (let variant = 0; variant < ENTRY_VARIANTS; variant++)
      entries[ref * ENTRY_VARIANTS + variant] = undefined;
  };
  const at = (ref: PeerRef) => records[ref] as PeerRecord;

  const forgetAddress = (record: PeerRecord, ref: PeerRef) => {
    const sharing = record.sharing;
    const i = sharing.indexOf(ref);
    if (i !== -1) sharing.splice(i, 1);
    if (sharing.length === 0) byAddress.delete(record.address);
  };

  const setAddress = (record: PeerRecord, ref: PeerRef, host: string, port: number) => {
    forgetAddress(record, ref);
    record.host = host;
    record.port = port;
    record.address = addressKey(host, port);
    let sharing = byAddress.get(record.address);
    if (sharing === undefined) {
      sharing = [];
      byAddress.set(record.address, sharing);
    }
    sharing.push(ref);
    record.sharing = sharing;
    forgetEntries(ref);
  };

  return {
    intern(peerId, host, port) {
      const existing = byId.get(peerId);
      if (existing !== undefined) {
        const record = at(existing);
        if (record.host !== host || record.port !== port) setAddress(record, existing, host, port);
        return existing;
      }
      const ref = free.pop() ?? records.length;
      const record: PeerRecord = { peerId, host, port, address: '', sharing: [], refs: 0 };
      records[ref] = record;
      byId.set(peerId, ref);
      setAddress(record, ref, host, port);
      return ref;
    },
    find: (peerId) => byId.get(peerId) ?? -1,
    sameAddress: (ref) => at(ref).sharing,
    withAddress: (host, port) => byAddress.get(addressKey(host, port)),
    retain(ref) {
      at(ref).refs += 1;
    },
    release(ref) {
      const record = at(ref);
      record.refs -= 1;
      if (record.refs > 0) return;
      byId.delete(record.peerId);
      forgetAddress(record, ref);
      forgetEntries(ref);
      records[ref] = undefined;
      free.push(ref);
    },
    peerId: (ref) => at(ref).peerId,
    host: (ref) => at(ref).host,
    port: (ref) => at(ref).port,
    entry(ref, flags, format) {
      const slot = ref * ENTRY_VARIANTS + (format === 'binary' ? FLAG_VARIANTS : 0) + flags;
      const cached = entries[slot];
      if (cached !== undefined) return cached;
      const { peerId, host, port } = at(ref);
      // Key order as in the protocol's schema.
      const peer = { peerId, host, port, complete: (flags & COMPLETE) !== 0, origin: (flags & ORIGIN) !== 0 };
      // Both flat strings, which a join copies without flattening first.
      const made = format === 'binary' ? encodeAnnouncedPeer(peer).toString('latin1') : JSON.stringify(peer);
      entries[slot] = made;
      return made;
    },
    get size() {
      return byId.size;
    },
  };
}
