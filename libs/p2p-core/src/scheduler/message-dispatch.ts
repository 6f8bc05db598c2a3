/**
 * Dispatches each message a peer sends into the scheduler's state (the message types
 * are wire/messages.ts): bitfield, HAVE and COMPLETE update what the peer holds (and
 * the picker), requests and cancels go to the upload queue, pieces and rejects to the
 * download side. A blob joins a live connection with its first message; a blacklisted
 * peer is ignored for that blob and its requests are rejected.
 */
import { bitfieldFromBuffer, createBitfield, type Bitfield } from '../storage/bitfield.js';
import type { PeerBlacklist } from './policy/peer-blacklist.js';
import type { IncomingMessage, PeerConn } from '../conn/peer-conn.js';
import type { SchedulerLogger } from './scheduler-deps.js';
import type { BlobPeer, SwarmBlob } from './swarm-blob.js';
import type { SwarmDownloads } from './swarm-downloads.js';
import type { SwarmUploads } from './swarm-uploads.js';

export interface MessageDispatchOptions {
  readonly blobs: ReadonlyMap<string, SwarmBlob>;
  readonly blacklist: PeerBlacklist;
  readonly attach: (blob: SwarmBlob, conn: PeerConn) => BlobPeer | undefined;
  readonly detach: (blob: SwarmBlob, peerId: string) => void;
  readonly downloads: SwarmDownloads;
  readonly uploads: SwarmUploads;
  readonly now: () => number;
  readonly logger: SchedulerLogger;
}

export function createSwarmMessageHandler(
  options: MessageDispatchOptions,
): (conn: PeerConn, message: IncomingMessage) => void {
  function onMessage(conn: PeerConn, message: IncomingMessage): void {
    const peerId = conn.remote?.peerId;
    if (peerId === undefined) return;
    const blob = options.blobs.get(message.blobId);
    if (blob === undefined || options.blacklist.isBlocked(message.blobId, peerId)) {
      if (message.type === 'request') {
        conn.send({
          type: 'reject',
          blobId: message.blobId,
          index: message.index,
          reason: blob === undefined ? 'unknown-blob' : 'unavailable',
        });
      }
      return;
    }
    // A blob joins a live connection with its first message (normally a bitfield).
    const peer = blob.peers.get(peerId) ?? options.attach(blob, conn);
    if (peer === undefined) return;
    const count = blob.metainfo.pieceHashes.length;
    switch (message.type) {
      case 'bitfield': {
        let pieces: Bitfield;
        try {
          if (message.pieceCount !== count) throw new Error('piece count differs');
          pieces = bitfieldFromBuffer(count, message.bits);
        } catch (err) {
          options.logger.warn(
            { peerId, blob: blob.metainfo.digest, err },
            'peer sent a bitfield of another layout',
          );
          options.detach(blob, peerId);
          return;
        }
        peer.pieces = pieces;
        blob.picker?.addPeer(peerId, pieces);
        if (blob.superSeed !== undefined) for (const i of pieces.present()) blob.superSeed.peerHas(peerId, i);
        options.downloads.fill(blob, peer);
        return;
      }
      case 'have':
        if (message.index >= count) return;
        piecesOf(blob, peer).set(message.index);
        blob.picker?.peerHas(peerId, message.index);
        blob.superSeed?.peerHas(peerId, message.index);
        options.downloads.fill(blob, peer);
        return;
      case 'complete': {
        const pieces = piecesOf(blob, peer);
        for (const index of [...pieces.missing()]) {
          pieces.set(index);
          blob.picker?.peerHas(peerId, index);
          blob.superSeed?.peerHas(peerId, index);
        }
        options.downloads.fill(blob, peer);
        return;
      }
      case 'request':
        peer.lastActive = options.now();
        options.uploads.onRequest(blob, peer, message.index);
        return;
      case 'cancel':
        options.uploads.onCancel(peer, message.index);
        return;
      case 'reject':
        blob.picker?.failed(peerId, message.index);
        if (message.reason === 'unknown-blob') options.detach(blob, peerId);
        // The rejecting peer gets new requests on the next tick, not in a tight loop.
        options.downloads.fillAll(blob, peer);
        return;
      case 'piece':
        options.downloads.onPiece(blob, peer, message.index, message.payload);
        return;
    }
  }

  function piecesOf(blob: SwarmBlob, peer: BlobPeer): Bitfield {
    if (peer.pieces === undefined) {
      peer.pieces = createBitfield(blob.metainfo.pieceHashes.length);
      blob.picker?.addPeer(peer.peerId, peer.pieces);
    }
    return peer.pieces;
  }

  return onMessage;
}
