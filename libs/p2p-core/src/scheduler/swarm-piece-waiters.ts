/**
 * Readers waiting for pieces of a blob still downloading (a client streaming the blob
 * while it arrives). A waiter is released when its piece is verified and on disk, and
 * rejected when the blob leaves the swarm first, or when its signal aborts.
 */
import type { SwarmBlob } from './swarm-blob.js';

interface PieceWaiter {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export interface SwarmPieceWaiters {
  /** Resolves once `blob.have` holds `index`. */
  wait(blob: SwarmBlob, index: number, signal?: AbortSignal): Promise<void>;
  /** Releases the waiters of pieces the blob now holds. */
  release(blob: SwarmBlob): void;
  /** Rejects every waiter of the blob. */
  rejectAll(blob: SwarmBlob, err: unknown): void;
  /** The lowest piece some reader waits for: the one a streaming client needs next. */
  waited(blob: SwarmBlob): number | undefined;
}

export function createSwarmPieceWaiters(): SwarmPieceWaiters {
  const byBlob = new WeakMap<SwarmBlob, Map<number, Set<PieceWaiter>>>();

  return {
    wait(blob, index, signal) {
      if (blob.have.has(index)) return Promise.resolve();
      if (signal?.aborted === true) return Promise.reject(signal.reason);
      let pieces = byBlob.get(blob);
      if (pieces === undefined) {
        pieces = new Map();
        byBlob.set(blob, pieces);
      }
      let waiters = pieces.get(index);
      if (waiters === undefined) {
        waiters = new Set();
        pieces.set(index, waiters);
      }
      const set = waiters;
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          set.delete(waiter);
          reject(signal?.reason);
        };
        const waiter: PieceWaiter = {
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          reject: (err) => {
            signal?.removeEventListener('abort', onAbort);
            reject(err);
          },
        };
        set.add(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },

    release(blob) {
      const pieces = byBlob.get(blob);
      if (pieces === undefined) return;
      for (const [index, waiters] of pieces) {
        if (!blob.have.has(index)) continue;
        pieces.delete(index);
        for (const waiter of waiters) waiter.resolve();
      }
    },

    waited(blob) {
      let lowest: number | undefined;
      for (const [index, waiters] of byBlob.get(blob) ?? []) {
        if (waiters.size > 0 && !blob.have.has(index) && (lowest === undefined || index < lowest))
          lowest = index;
      }
      return lowest;
    },

    rejectAll(blob, err) {
      const pieces = byBlob.get(blob);
      if (pieces === undefined) return;
      byBlob.delete(blob);
      for (const waiters of pieces.values()) for (const waiter of waiters) waiter.reject(err);
    },
  };
}
