/**
 * The state of one blob in the swarm, as the scheduler owns it: what we hold, which
 * connected peers take part and what they hold, uploads queued for them, and counters
 * for the status endpoint. Plain data; only the scheduler's event handlers change it.
 */
import type { AnnouncedPeer } from '../announce/announce-protocol.js';
import type { Bitfield } from '../storage/bitfield.js';
import type { Metainfo } from '../metainfo/metainfo.js';
import type { PartialBlob, BlobAdopter } from '../storage/partial-blob.js';
import type { PieceReader } from '../storage/piece-reader.js';
import type { PeerConn } from '../conn/peer-conn.js';
import type { PiecePicker } from './policy/rarest-first-policy.js';
import type { SuperSeed } from './policy/super-seed-policy.js';
import type { BlobStatus, SwarmBlobState } from './scheduler-interface.js';

/** One connected peer's part in one blob. */
export interface BlobPeer {
  readonly conn: PeerConn;
  readonly peerId: string;
  /** Undefined until its bitfield arrived. */
  pieces: Bitfield | undefined;
  /** Piece indices it requested from us, in order. */
  readonly uploads: number[];
  /** Last time a piece went either way, or it asked for one (idle timeouts). */
  lastActive: number;
  /** Last time it sent us a piece: a peer that does is busy, not stalled. */
  lastPieceAt: number;
  /** Since when it has had requests of ours outstanding without a break. */
  busySince: number;
  /** How fast it has been sending us pieces (bytes/ms, moving average); undefined until measured. */
  rate: number | undefined;
  /** A piece read for it is in flight (one at a time keeps memory at one piece). */
  reading: boolean;
}

export interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export interface SwarmBlob {
  readonly id: string;
  readonly metainfo: Metainfo;
  state: SwarmBlobState;
  /** Verified pieces; shared with the picker, which marks received ones. */
  have: Bitfield;
  partial: PartialBlob | undefined;
  picker: PiecePicker | undefined;
  /** An origin's offers while some piece has not gone out (scheduler/policy/super-seed-policy.ts). */
  superSeed: SuperSeed | undefined;
  adopter: BlobAdopter | undefined;
  readPiece: PieceReader | undefined;
  /** For seeding after completion; undefined means leave the swarm once complete. */
  readAfterComplete: PieceReader | undefined;
  readonly peers: Map<string, BlobPeer>;
  /** Peers from the tracker's last answers, by id. */
  readonly known: Map<string, AnnouncedPeer>;
  readonly dialing: Set<string>;
  /** Piece indices being verified and written. */
  readonly writing: Set<number>;
  readonly waiters: Set<Waiter>;
  stopTimer: unknown;
  bytesFromPeers: number;
  bytesFromOrigins: number;
  bytesUploaded: number;
}

export function blobStatus(blob: SwarmBlob): BlobStatus {
  return {
    metainfoId: blob.id,
    digest: blob.metainfo.digest,
    state: blob.state,
    piecesDone: blob.have.count(),
    pieceCount: blob.metainfo.pieceHashes.length,
    peersConnected: blob.peers.size,
    bytesFromPeers: blob.bytesFromPeers,
    bytesFromOrigins: blob.bytesFromOrigins,
    bytesUploaded: blob.bytesUploaded,
  };
}

export function createSwarmBlob(metainfo: Metainfo, id: string, have: Bitfield): SwarmBlob {
  return {
    id,
    metainfo,
    state: 'downloading',
    have,
    partial: undefined,
    picker: undefined,
    superSeed: undefined,
    adopter: undefined,
    readPiece: undefined,
    readAfterComplete: undefined,
    peers: new Map(),
    known: new Map(),
    dialing: new Set(),
    writing: new Set(),
    waiters: new Set(),
    stopTimer: undefined,
    bytesFromPeers: 0,
    bytesFromOrigins: 0,
    bytesUploaded: 0,
  };
}

/**
 * One caller's wait for a download: settles with the blob, or rejects with the abort
 * reason when `signal` aborts first; `onAllGone` runs when the last waiter aborted.
 */
export function waitFor(
  blob: SwarmBlob,
  signal: AbortSignal | undefined,
  onAllGone: () => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      if (blob.waiters.size === 0) onAllGone();
      return;
    }
    const onAbort = () => {
      if (!blob.waiters.delete(waiter)) return;
      reject(signal?.reason);
      if (blob.waiters.size === 0) onAllGone();
    };
    const waiter: Waiter = {
      resolve: () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      reject: (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      },
    };
    blob.waiters.add(waiter);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
