/**
 * Which peers take part in which blob's swarm, over the connections the scheduler
 * holds. Attaching a peer sends it our bitfield; a connection that carries no blob any
 * more is marked idle, so the sweep can close it after a while. Blacklisted peers are
 * never attached.
 */
import { createBitfield } from '../storage/bitfield.js';
import type { PeerBlacklist } from './policy/peer-blacklist.js';
import type { PeerConn } from '../conn/peer-conn.js';
import type { BlobPeer, SwarmBlob } from './swarm-blob.js';

export interface SwarmMembershipOptions {
  readonly blobs: ReadonlyMap<string, SwarmBlob>;
  /** Open connections that carry no blob, since when; shared with the sweep. */
  readonly idleSince: Map<PeerConn, number>;
  readonly blacklist: Pick<PeerBlacklist, 'isBlocked'>;
  readonly now: () => number;
}

export interface SwarmMembership {
  attach(blob: SwarmBlob, conn: PeerConn): BlobPeer | undefined;
  detach(blob: SwarmBlob, peerId: string): void;
  forEachPeerOf(conn: PeerConn, fn: (blob: SwarmBlob, peer: BlobPeer) => void): void;
  sendBitfield(blob: SwarmBlob, peer: BlobPeer): void;
}

export function createSwarmMembership(options: SwarmMembershipOptions): SwarmMembership {
  const { blobs, idleSince, blacklist, now } = options;

  function forEachPeerOf(conn: PeerConn, fn: (blob: SwarmBlob, peer: BlobPeer) => void): void {
    const peerId = conn.remote?.peerId;
    if (peerId === undefined) return;
    for (const blob of [...blobs.values()]) {
      const peer = blob.peers.get(peerId);
      if (peer !== undefined && peer.conn === conn) fn(blob, peer);
    }
  }

  function attach(blob: SwarmBlob, conn: PeerConn): BlobPeer | undefined {
    const peerId = conn.remote?.peerId;
    if (peerId === undefined || conn.state !== 'open') return undefined;
    const existing = blob.peers.get(peerId);
    if (existing !== undefined && existing.conn === conn) return existing;
    if (existing !== undefined) detach(blob, peerId);
    if (blacklist.isBlocked(blob.id, peerId)) return undefined;
    const peer: BlobPeer = {
      conn,
      peerId,
      pieces: undefined,
      uploads: [],
      reading: false,
      lastActive: now(),
      lastPieceAt: now(),
      busySince: now(),
      rate: undefined,
    };
    blob.peers.set(peerId, peer);
    idleSince.delete(conn);
    sendBitfield(blob, peer);
    return peer;
  }

  function detach(blob: SwarmBlob, peerId: string): void {
    const peer = blob.peers.get(peerId);
    if (peer === undefined) return;
    blob.peers.delete(peerId);
    blob.picker?.removePeer(peerId);
    blob.superSeed?.leave(peerId);
    if (peer.conn.state === 'open' && !carriesBlobs(peer.conn)) idleSince.set(peer.conn, now());
  }

  function carriesBlobs(conn: PeerConn): boolean {
    const peerId = conn.remote?.peerId;
    for (const blob of blobs.values())
      if (peerId !== undefined && blob.peers.get(peerId)?.conn === conn) return true;
    return false;
  }

  function sendBitfield(blob: SwarmBlob, peer: BlobPeer): void {
    const pieceCount = blob.metainfo.pieceHashes.length;
    let bits = blob.have.toBuffer();
    if (blob.superSeed !== undefined && blob.state === 'seeding') {
      // A super-seeding origin shows each peer only the pieces it offers that peer.
      const offered = createBitfield(pieceCount);
      for (const index of blob.superSeed.join(peer.peerId)) offered.set(index);
      bits = offered.toBuffer();
    }
    peer.conn.send({ type: 'bitfield', blobId: blob.id, pieceCount, bits });
  }

  return { attach, detach, forEachPeerOf, sendBitfield };
}
