/**
 * The download side of the scheduler: requests go out as the picker hands them over
 * (rarest first, pipelined), each arriving piece is verified and written by the
 * partial blob off the event loop, and the result comes back here: a verified piece
 * is announced to the neighbours with HAVE and cancels its endgame duplicates; a bad
 * one blacklists its sender for the blob. The last write triggers whole-blob
 * verification and adoption.
 */
import { PieceVerificationError } from '../errors.js';
import type { PeerBlacklist } from './policy/peer-blacklist.js';
import type { PiecePicker } from './policy/rarest-first-policy.js';
import type { SchedulerLogger } from './scheduler-deps.js';
import type { BlobPeer, SwarmBlob } from './swarm-blob.js';
import type { PieceBufferPool } from '../buffers/piece-buffer-pool.js';

export interface SwarmDownloadsOptions {
  readonly now: () => number;
  /** False once the blob left the swarm (results of writes for it are dropped). */
  readonly isCurrent: (blob: SwarmBlob) => boolean;
  readonly isOrigin: (peerId: string) => boolean;
  readonly blacklist: PeerBlacklist;
  readonly detach: (blob: SwarmBlob, peerId: string) => void;
  readonly connectMore: (blob: SwarmBlob) => void;
  /** The blob was adopted. */
  readonly onCompleted: (blob: SwarmBlob) => void;
  /** A piece was verified and written (readers streaming the blob may go on). */
  readonly onPieceStored?: ((blob: SwarmBlob) => void) | undefined;
  /** The download failed for good. */
  readonly finish: (blob: SwarmBlob, err: unknown) => void;
  /** Where a received piece's buffer goes back once the piece is written or dropped. */
  readonly buffers?: PieceBufferPool | undefined;
  readonly logger: SchedulerLogger;
}

export interface SwarmDownloads {
  /** Fills the request pipeline of one peer. */
  fill(blob: SwarmBlob, peer: BlobPeer): void;
  fillAll(blob: SwarmBlob, except?: BlobPeer): void;
  onPiece(blob: SwarmBlob, peer: BlobPeer, index: number, payload: Uint8Array): void;
  /** Starts completion once every piece is verified and written. */
  maybeComplete(blob: SwarmBlob): void;
}

/** Weight of the newest sample in a peer's moving-average rate. */
const RATE_WEIGHT = 0.3;

export function createSwarmDownloads(options: SwarmDownloadsOptions): SwarmDownloads {
  /** Asks `peer` for up to `limit` more pieces; returns whether it asked for any. */
  function request(blob: SwarmBlob, peer: BlobPeer, picker: PiecePicker, limit?: number): boolean {
    const idle = picker.outstanding(peer.peerId) === 0;
    const indices = picker.next(peer.peerId, limit);
    if (indices.length > 0 && idle) peer.busySince = options.now();
    for (const index of indices) peer.conn.send({ type: 'request', blobId: blob.id, index });
    return indices.length > 0;
  }

  function fill(blob: SwarmBlob, peer: BlobPeer): void {
    const picker = blob.picker;
    if (blob.state !== 'downloading' || picker === undefined || peer.pieces === undefined) return;
    request(blob, peer, picker);
  }

  /**
   * One request per peer per round, idle peers first and, among them, those that sent
   * fastest (unmeasured ones first, to measure them): the blob's request budget
   * (maxRequestsPerBlob) spreads over the peers that have something for us and spare
   * uplink, rather than filling the pipelines of whichever peers joined first.
   */
  function fillAll(blob: SwarmBlob, except?: BlobPeer): void {
    const picker = blob.picker;
    if (blob.state !== 'downloading' || picker === undefined) return;
    const peers = [...blob.peers.values()]
      .filter((peer) => peer !== except && peer.pieces !== undefined)
      .sort(
        (a, b) =>
          picker.outstanding(a.peerId) - picker.outstanding(b.peerId) ||
          (b.rate ?? Infinity) - (a.rate ?? Infinity),
      );
    for (let sent = true; sent;) {
      sent = false;
      for (const peer of peers) if (request(blob, peer, picker, 1)) sent = true;
    }
  }

  /** Folds one piece's arrival into the sender's rate: bytes over the time it was busy for us. */
  function measure(peer: BlobPeer, bytes: number): void {
    const now = options.now();
    const elapsed = now - Math.max(peer.lastPieceAt, peer.busySince);
    peer.lastPieceAt = now;
    if (elapsed <= 0) return;
    const sample = bytes / elapsed;
    peer.rate = peer.rate === undefined ? sample : RATE_WEIGHT * sample + (1 - RATE_WEIGHT) * peer.rate;
  }

  function onPiece(blob: SwarmBlob, peer: BlobPeer, index: number, payload: Uint8Array): void {
    // The payload is ours alone (the connection assembled it): it goes back to the pool
    // once written, or at once when it is not written at all.
    const release = () => options.buffers?.give(payload);
    const { partial, picker } = blob;
    if (
      blob.state !== 'downloading' ||
      partial === undefined ||
      picker === undefined ||
      index >= blob.metainfo.pieceHashes.length
    ) {
      release();
      return;
    }
    peer.lastActive = options.now();
    measure(peer, payload.byteLength);
    if (options.isOrigin(peer.peerId)) blob.bytesFromOrigins += payload.byteLength;
    else blob.bytesFromPeers += payload.byteLength;
    if (blob.have.has(index)) {
      release();
      picker.received(peer.peerId, index);
      fill(blob, peer);
      return;
    }
    // An endgame duplicate of a piece being written: its request is released when
    // the write lands.
    if (blob.writing.has(index)) {
      release();
      return;
    }
    blob.writing.add(index);
    partial.writePiece(index, payload).then(
      (written) => {
        // Written and verified: the reads that follow soon are served from memory.
        if (written) partial.keep(index, payload);
        else release();
        onWritten(blob, peer, index);
      },
      (err: unknown) => {
        release();
        onWriteFailed(blob, peer, index, err);
      },
    );
  }

  function onWritten(blob: SwarmBlob, from: BlobPeer, index: number): void {
    blob.writing.delete(index);
    const picker = blob.picker;
    if (!options.isCurrent(blob) || picker === undefined) return;
    for (const cancel of picker.received(from.peerId, index)) {
      blob.peers.get(cancel.peerId)?.conn.send({ type: 'cancel', blobId: blob.id, index });
    }
    options.onPieceStored?.(blob);
    for (const peer of blob.peers.values()) {
      // An origin's bitfield lists the pieces it offers us, not all it holds, and an offer
      // holds a place in its short list for us until it hears that we have the piece: from
      // the piece leaving it, or from this HAVE when the piece came from someone else.
      const tellOrigin = peer !== from && options.isOrigin(peer.peerId);
      if (peer.pieces?.has(index) !== true || tellOrigin)
        peer.conn.send({ type: 'have', blobId: blob.id, index });
    }
    fillAll(blob);
    maybeComplete(blob);
  }

  function onWriteFailed(blob: SwarmBlob, from: BlobPeer, index: number, err: unknown): void {
    blob.writing.delete(index);
    if (!options.isCurrent(blob) || blob.picker === undefined) return;
    if (!(err instanceof PieceVerificationError)) {
      options.logger.warn(
        { blob: blob.metainfo.digest, index, err },
        'writing a piece failed; download abandoned',
      );
      options.finish(blob, err);
      return;
    }
    const ban = options.blacklist.add(blob.id, from.peerId, 'bad-piece');
    options.logger.warn(
      { blob: blob.metainfo.digest, peerId: from.peerId, index, reason: err.reason, offences: ban.offences },
      'peer sent a bad piece; blacklisted for this blob',
    );
    blob.picker.failed(from.peerId, index);
    options.detach(blob, from.peerId);
    fillAll(blob);
    options.connectMore(blob);
    maybeComplete(blob);
  }

  function maybeComplete(blob: SwarmBlob): void {
    const { partial, picker, adopter } = blob;
    if (blob.state !== 'downloading' || partial === undefined || adopter === undefined) return;
    if (picker?.complete !== true || blob.writing.size > 0) return;
    blob.state = 'completing';
    partial.complete(adopter).then(
      () => options.onCompleted(blob),
      (err: unknown) => {
        if (!options.isCurrent(blob)) return;
        options.logger.warn({ blob: blob.metainfo.digest, err }, 'completed blob failed verification');
        options.finish(blob, err);
      },
    );
  }

  return { fill, fillAll, onPiece, maybeComplete };
}
