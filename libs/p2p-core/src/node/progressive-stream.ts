/**
 * A blob streamed to a client while the swarm downloads it: pieces go out in order as
 * soon as each is verified against its sha256, so the client does not wait for the
 * whole blob (Kraken blocks a pull until the blob completes). The final bytes are held
 * back until the whole blob's digest has been verified, so a client never receives a
 * complete body that failed verification. If the swarm stops first (the download fell
 * back to an origin, or the blob left the swarm), the stream carries on from the
 * complete copy once it exists.
 */
import { Readable } from 'node:stream';
import { ProgressiveStreamError } from '../errors.js';
import type { Metainfo } from '../metainfo/metainfo.js';

export interface ProgressiveStreamOptions {
  readonly metainfo: Metainfo;
  /** Inclusive byte range; the whole blob by default. */
  readonly range?: { readonly start: number; readonly end: number } | undefined;
  /** Resolves with a verified piece, waiting for it when needed. */
  readonly readPiece: (index: number, signal: AbortSignal) => Promise<Uint8Array>;
  /** Settles once the download ended: true when the verified blob is stored. */
  readonly done: Promise<boolean>;
  /** Streams a byte range of the stored, verified blob. */
  readonly resume: (range: { start: number; end: number }) => Promise<Readable>;
}

export function createProgressiveStream(options: ProgressiveStreamOptions): Readable {
  const { metainfo } = options;
  const start = options.range?.start ?? 0;
  const end = Math.min(options.range?.end ?? metainfo.size - 1, metainfo.size - 1);
  const controller = new AbortController();
  const verified = options.done.then(
    (ok) => ok,
    () => false,
  );

  async function* generate(): AsyncGenerator<Uint8Array> {
    let offset = start;
    try {
      while (offset <= end) {
        const index = Math.floor(offset / metainfo.pieceLength);
        const piece = await options.readPiece(index, controller.signal);
        const pieceStart = index * metainfo.pieceLength;
        const slice = piece.subarray(offset - pieceStart, Math.min(piece.byteLength, end + 1 - pieceStart));
        if (slice.byteLength === 0) throw new RangeError(`piece ${index} is shorter than its range`);
        const last = offset + slice.byteLength > end;
        if (last && !(await verified)) throw new ProgressiveStreamError(metainfo.digest);
        yield slice;
        offset += slice.byteLength;
      }
    } catch (err) {
      if (controller.signal.aborted) throw err;
      // The swarm stopped early: go on from the stored copy, if the download ended with one.
      if (!(await verified)) throw new ProgressiveStreamError(metainfo.digest, err);
      if (offset > end) return;
      yield* await options.resume({ start: offset, end });
    }
  }

  const iterator = generate();
  // Not Readable.from: its destroy waits for the pending next(), which may be a wait
  // for a piece that only the abort below ends.
  return new Readable({
    read() {
      iterator.next().then(
        (result) => this.push(result.done === true ? null : result.value),
        (err: unknown) => this.destroy(err as Error),
      );
    },
    destroy(err, callback) {
      controller.abort();
      iterator.return(undefined).then(
        () => callback(err),
        () => callback(err),
      );
    },
  });
}
