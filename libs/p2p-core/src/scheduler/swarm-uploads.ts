/**
 * Serving pieces to peers for the scheduler: requests queue per peer and blob (bounded;
 * past the bound the peer gets 'overloaded'), one piece is read at a time per queue so
 * memory stays at a piece per peer, and sending stops while the connection is above
 * its high-water mark until the scheduler sees 'drain' and pumps again.
 *
 * A super-seeding origin (scheduler/policy/super-seed-policy.ts) refuses, as
 * 'overloaded', a request for a piece it neither offered that peer nor would send it
 * unasked, and reports each piece it sends so that the peer is offered the next one at
 * once.
 */
import type { PeerConn } from '../conn/peer-conn.js';
import type { SchedulerLogger } from './scheduler-deps.js';
import type { PieceReader } from '../storage/piece-reader.js';
import type { BlobPeer, SwarmBlob } from './swarm-blob.js';
import type { PieceBufferPool } from '../buffers/piece-buffer-pool.js';

export interface SwarmUploadsOptions {
  readonly uploadQueueLength: number;
  /** Connections above their high-water mark; shared with the scheduler. */
  readonly blocked: Set<PeerConn>;
  /** False once the blob left the swarm (results of reads for it are dropped). */
  readonly isCurrent: (blob: SwarmBlob) => boolean;
  /** Pieces are read into buffers from it, which go back once the socket has sent them. */
  readonly buffers?: PieceBufferPool | undefined;
  readonly logger: SchedulerLogger;
}

export interface SwarmUploads {
  onRequest(blob: SwarmBlob, peer: BlobPeer, index: number): void;
  onCancel(peer: BlobPeer, index: number): void;
  /** The blob leaves the swarm: queued requests of `peer` are rejected as unknown-blob. */
  abandon(blob: SwarmBlob, peer: BlobPeer): void;
  /** Sends queued pieces until the queue is empty or the connection is blocked. */
  pump(blob: SwarmBlob, peer: BlobPeer): void;
}

export function createSwarmUploads(options: SwarmUploadsOptions): SwarmUploads {
  function reader(blob: SwarmBlob): PieceReader | undefined {
    if (blob.state === 'seeding') return blob.readPiece;
    const partial = blob.partial;
    return partial === undefined ? undefined : (index, into) => partial.readPiece(index, into);
  }

  function onRequest(blob: SwarmBlob, peer: BlobPeer, index: number): void {
    const reject = (reason: 'unavailable' | 'overloaded') =>
      peer.conn.send({ type: 'reject', blobId: blob.id, index, reason });
    if (index >= blob.metainfo.pieceHashes.length || !blob.have.has(index) || reader(blob) === undefined) {
      reject('unavailable');
      return;
    }
    if (peer.uploads.includes(index)) return;
    const offered = blob.state !== 'seeding' || (blob.superSeed?.mayServe(peer.peerId, index) ?? true);
    if (peer.uploads.length >= options.uploadQueueLength || !offered) {
      reject('overloaded');
      return;
    }
    peer.uploads.push(index);
    pump(blob, peer);
  }

  function pump(blob: SwarmBlob, peer: BlobPeer): void {
    if (peer.reading || options.blocked.has(peer.conn) || peer.conn.state !== 'open') return;
    const index = peer.uploads.shift();
    if (index === undefined) return;
    const read = reader(blob);
    if (read === undefined) {
      peer.conn.send({ type: 'reject', blobId: blob.id, index, reason: 'unavailable' });
      pump(blob, peer);
      return;
    }
    peer.reading = true;
    const buffer = options.buffers?.take(blob.metainfo.pieceLength);
    read(index, buffer).then(
      (data) => onRead(blob, peer, index, data, buffer),
      (err: unknown) => {
        if (buffer !== undefined) options.buffers?.give(buffer);
        peer.reading = false;
        options.logger.debug({ blob: blob.metainfo.digest, index, err }, 'reading a piece to upload failed');
        if (blob.peers.get(peer.peerId) !== peer) return;
        peer.conn.send({ type: 'reject', blobId: blob.id, index, reason: 'unavailable' });
        pump(blob, peer);
      },
    );
  }

  function onRead(
    blob: SwarmBlob,
    peer: BlobPeer,
    index: number,
    data: Uint8Array,
    buffer: Buffer | undefined,
  ): void {
    peer.reading = false;
    // Until the socket has the piece, nobody but us holds the buffer.
    const release = () => {
      if (buffer !== undefined) options.buffers?.give(buffer);
    };
    if (peer.conn.state !== 'open') {
      release();
      return;
    }
    if (!options.isCurrent(blob)) {
      release();
      // The blob left the swarm while the piece was read: say so rather than let the
      // request time out and the requester think we stalled.
      peer.conn.send({ type: 'reject', blobId: blob.id, index, reason: 'unknown-blob' });
      return;
    }
    if (blob.peers.get(peer.peerId) !== peer) {
      release();
      return;
    }
    blob.bytesUploaded += data.byteLength;
    const sent = peer.conn.send({ type: 'piece', blobId: blob.id, index, payload: data }, release);
    blob.superSeed?.sent(peer.peerId, index);
    if (sent) {
      pump(blob, peer);
    } else {
      options.blocked.add(peer.conn);
    }
  }

  function abandon(blob: SwarmBlob, peer: BlobPeer): void {
    for (const index of peer.uploads.splice(0)) {
      peer.conn.send({ type: 'reject', blobId: blob.id, index, reason: 'unknown-blob' });
    }
  }

  function onCancel(peer: BlobPeer, index: number): void {
    const at = peer.uploads.indexOf(index);
    if (at >= 0) peer.uploads.splice(at, 1);
  }

  return { onRequest, onCancel, pump, abandon };
}
