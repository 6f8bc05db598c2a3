/**
 * A blob streamed to a client while the swarm downloads it: pieces go out in order as
 * soon as each is verified against its sha256, so the client does not wait for the
 * whole blob (Kraken blocks a pull until the blob completes). The final bytes are held
 * back until the whole blob's digest has been verified, so a client never receives a
 * complete body that failed verification. If the swarm stops first (the download fell
 * back to an origin, or the blob left the swarm), the stream carries on from the
 * complete copy once it exists.
 *
 * Piped into an HTTP response or a socket (as fastify sends a reply body), the stream
 * writes each piece itself, read into a pooled buffer that goes back once the response
 * has flushed it, one piece read ahead: serving a client then allocates nothing per
 * piece. Read any other way, each piece is a buffer of its own.
 */
import { once } from 'node:events';
import { ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Readable, type Writable } from 'node:stream';
import type { PieceBufferPool } from '../buffers/piece-buffer-pool.js';
import { ProgressiveStreamError } from '../errors.js';
import type { Metainfo } from '../metainfo/metainfo.js';

export interface ProgressiveStreamOptions {
  readonly metainfo: Metainfo;
  /** Inclusive byte range; the whole blob by default. */
  readonly range?: { readonly start: number; readonly end: number } | undefined;
  /**
   * Resolves with a verified piece, waiting for it when needed: read into `into` when
   * given (the result is then a view of it).
   */
  readonly readPiece: (index: number, signal: AbortSignal, into?: Buffer) => Promise<Uint8Array>;
  /** Settles once the download ended: true when the verified blob is stored. */
  readonly done: Promise<boolean>;
  /** Streams a byte range of the stored, verified blob. */
  readonly resume: (range: { start: number; end: number }) => Promise<Readable>;
  /** Where pieces are read into when the stream is piped into a response. */
  readonly buffers?: PieceBufferPool | undefined;
}

interface Chunk {
  readonly bytes: Uint8Array;
  /** The pooled buffer `bytes` lies in, to give back once the bytes have left. */
  readonly buffer?: Buffer | undefined;
}

export function createProgressiveStream(options: ProgressiveStreamOptions): Readable {
  return new ProgressiveStream(options);
}

class ProgressiveStream extends Readable {
  readonly #options: ProgressiveStreamOptions;
  readonly #controller = new AbortController();
  readonly #verified: Promise<boolean>;
  readonly #iterator: AsyncGenerator<Chunk>;
  /** Set once piped into a sink that releases chunks on its write callback. */
  #pooled: PieceBufferPool | undefined;
  #started = false;

  constructor(options: ProgressiveStreamOptions) {
    super();
    this.#options = options;
    this.#verified = options.done.then(
      (ok) => ok,
      () => false,
    );
    this.#iterator = this.#generate();
  }

  async *#generate(): AsyncGenerator<Chunk> {
    const { metainfo } = this.#options;
    const start = this.#options.range?.start ?? 0;
    const end = Math.min(this.#options.range?.end ?? metainfo.size - 1, metainfo.size - 1);
    const signal = this.#controller.signal;
    let offset = start;
    try {
      while (offset <= end) {
        const index = Math.floor(offset / metainfo.pieceLength);
        const buffer = this.#pooled?.take(metainfo.pieceLength);
        let piece: Uint8Array;
        try {
          piece = await this.#options.readPiece(index, signal, buffer);
        } catch (err) {
          this.#give(buffer);
          throw err;
        }
        const pieceStart = index * metainfo.pieceLength;
        const slice = piece.subarray(offset - pieceStart, Math.min(piece.byteLength, end + 1 - pieceStart));
        const last = offset + slice.byteLength > end;
        if (slice.byteLength === 0 || (last && !(await this.#verified))) {
          this.#give(buffer);
          if (slice.byteLength === 0) throw new RangeError(`piece ${index} is shorter than its range`);
          throw new ProgressiveStreamError(metainfo.digest);
        }
        yield { bytes: slice, buffer };
        offset += slice.byteLength;
      }
    } catch (err) {
      if (signal.aborted) throw err;
      // The swarm stopped early: go on from the stored copy, if the download ended with one.
      if (!(await this.#verified)) throw new ProgressiveStreamError(metainfo.digest, err);
      if (offset > end) return;
      for await (const bytes of await this.#options.resume({ start: offset, end })) {
        yield { bytes: bytes as Uint8Array };
      }
    }
  }

  #give(buffer: Buffer | undefined): void {
    if (buffer !== undefined) this.#pooled?.give(buffer);
  }

  // Not Readable.from: its destroy waits for the pending next(), which may be a wait
  // for a piece that only the abort in _destroy ends.
  override _read(): void {
    this.#started = true;
    this.#iterator.next().then(
      (result) => this.push(result.done === true ? null : result.value.bytes),
      (err: unknown) => this.destroy(err as Error),
    );
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, pipeOptions?: { end?: boolean }): T {
    const pool = this.#options.buffers;
    if (pool === undefined || this.#started || !releasesOnCallback(destination)) {
      return super.pipe(destination, pipeOptions);
    }
    this.#started = true;
    this.#pooled = pool;
    void this.#copyTo(destination as unknown as Writable, pipeOptions?.end ?? true);
    return destination;
  }

  /** Writes every chunk to `destination` itself, giving pooled buffers back as they leave. */
  async #copyTo(destination: Writable, end: boolean): Promise<void> {
    const signal = this.#controller.signal;
    const onClose = () => {
      if (!this.readableEnded) this.destroy();
    };
    destination.once('close', onClose);
    let next = this.#iterator.next();
    try {
      for (;;) {
        const { done, value } = await next;
        if (done === true) break;
        const { bytes, buffer } = value;
        const flowing = destination.write(bytes, (err) => {
          // Only a flushed buffer is free again; after an error it may still be referenced.
          if (err == null) this.#give(buffer);
        });
        // The next piece is read while the response drains this one.
        next = this.#iterator.next();
        if (!flowing) await once(destination, 'drain', { signal });
      }
      destination.off('close', onClose);
      if (end) destination.end();
      // Let end-of-stream listeners (fastify's among them) see a normal end.
      this.push(null);
      this.resume();
    } catch (err) {
      // A read ahead that fails after this is nobody's error.
      next.catch(() => undefined);
      if (!this.destroyed) this.destroy(err as Error);
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#controller.abort();
    this.#iterator.return(undefined).then(
      () => callback(err),
      () => callback(err),
    );
  }
}

/** Sinks that hold no reference to a chunk once its write callback ran. */
function releasesOnCallback(destination: NodeJS.WritableStream): boolean {
  return destination instanceof ServerResponse || destination instanceof Socket;
}
