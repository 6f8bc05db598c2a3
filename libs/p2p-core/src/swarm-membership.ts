/**
 * Which peers take part in which blob's swarm, over the connections the scheduler
 * holds. Attaching a peer sends it our bitfield; a connection that carries no blob any
 * more is marked idle, so the sweep can close it after a while. Blacklisted peers are
 * never attached.
 */
import type { PeerBlacklist } from './peer-blacklist.js';
import type { PeerConn } from './peer-conn.js';
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
    if (peer.conn.state === 'open' && !carriesBlobs(peer.conn)) idleSince.set(peer.conn, now());
  }

  function carriesBlobs(conn: PeerConn): boolean {
    const peerId = conn.remote?.peerId;
    for (const blob of blobs.values())
      if (peerId !== undefined && blob.peers.get(peerId)?.conn === conn) return true;
    return false;
  }

  function sendBitfield(blob: SwarmBlob, peer: BlobPeer): void {
    peer.conn.send({
      type: 'bitfield',
      blobId: blob.id,
      pieceCount: blob.metainfo.pieceHashes.length,
      bits: blob.have.toBuffer(),
    });
  }

  return { attach, detach, forEachPeerOf, sendBitfield };
}
