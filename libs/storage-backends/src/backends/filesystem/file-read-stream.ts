/**
 * Reads a byte range of an open file as a Readable. Consumed as an ordinary stream
 * (for await, pipeline) it allocates a buffer per chunk like any file stream. Piped
 * into a sink that is done with a chunk once its write callback runs (an HTTP response
 * or socket, as fastify pipes a reply body, or a file), it instead copies with pooled
 * buffers: a buffer is read, written, and reused once the write callback says the
 * bytes have left, with at most `inFlight` buffers per stream. That keeps serving
 * blobs free of per-chunk allocation (see buffer-pool.ts). Any other destination (a
 * Transform passes chunks on and calls back before they are consumed) gets fresh
 * buffers, since reusing one there would overwrite bytes still queued downstream.
 */
import type { FileHandle } from 'node:fs/promises';
import { WriteStream } from 'node:fs';
import { ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Readable, type Writable } from 'node:stream';
import type { BufferPool } from './buffer-pool.js';

export interface FileReadStreamOptions {
  readonly handle: FileHandle;
  /** First byte to read. */
  readonly start: number;
  /** Last byte to read, inclusive; start − 1 for an empty range. */
  readonly end: number;
  readonly pool: BufferPool;
  /** Buffers written but not yet flushed by the destination, per stream. */
  readonly inFlight?: number;
}

export class FileReadStream extends Readable {
  readonly #handle: FileHandle;
  readonly #pool: BufferPool;
  readonly #end: number;
  readonly #inFlight: number;
  #position: number;
  #piped = false;

  constructor(options: FileReadStreamOptions) {
    super({ highWaterMark: options.pool.bufferSize });
    this.#handle = options.handle;
    this.#pool = options.pool;
    this.#position = options.start;
    this.#end = options.end;
    this.#inFlight = options.inFlight ?? 4;
  }

  override _read(): void {
    const remaining = this.#end - this.#position + 1;
    if (remaining <= 0) {
      this.push(null);
      return;
    }
    const buffer = Buffer.allocUnsafeSlow(Math.min(remaining, this.#pool.bufferSize));
    this.#handle.read(buffer, 0, buffer.length, this.#position).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) return this.destroy(new Error('file ended before the expected length'));
        this.#position += bytesRead;
        this.push(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
      },
      (err: unknown) => this.destroy(err as Error),
    );
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    if (
      this.#piped ||
      this.readableFlowing === true ||
      this.readableLength > 0 ||
      !releasesOnCallback(destination)
    ) {
      // As in the pooled copy: a destination that goes away takes the file with it.
      destination.once('close', () => {
        if (!this.readableEnded) this.destroy();
      });
      return super.pipe(destination, options);
    }
    this.#piped = true;
    this.#copyTo(destination as unknown as Writable, options?.end ?? true);
    return destination;
  }

  #copyTo(destination: Writable, end: boolean): void {
    let pending = 0;
    let reading = false;
    const finish = () => {
      if (end) destination.end();
      // Let end-of-stream listeners (fastify's among them) see a normal end.
      this.push(null);
      this.resume();
    };
    const pump = (): void => {
      while (!reading && pending < this.#inFlight && !this.destroyed) {
        const remaining = this.#end - this.#position + 1;
        if (remaining <= 0) {
          if (pending === 0) finish();
          return;
        }
        reading = true;
        const buffer = this.#pool.take();
        const length = Math.min(remaining, buffer.length);
        this.#handle.read(buffer, 0, length, this.#position).then(
          ({ bytesRead }) => {
            reading = false;
            if (this.destroyed || destination.destroyed) {
              this.#pool.give(buffer);
              if (!this.destroyed) this.destroy();
              return;
            }
            if (bytesRead === 0) {
              this.#pool.give(buffer);
              this.destroy(new Error('file ended before the expected length'));
              return;
            }
            this.#position += bytesRead;
            pending++;
            destination.write(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead), (err) => {
              pending--;
              // Only a flushed buffer is safe to reuse; after an error it may still be
              // referenced. The destination's failure is its own: stop reading, as pipe() would.
              if (err) return void this.destroy();
              this.#pool.give(buffer);
              pump();
            });
            pump();
          },
          (err: unknown) => {
            reading = false;
            this.#pool.give(buffer);
            this.destroy(err as Error);
          },
        );
      }
    };
    destination.once('close', () => {
      if (!this.readableEnded) this.destroy();
    });
    pump();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#handle.close().then(
      () => callback(err),
      () => callback(err),
    );
  }
}

/** Sinks that hold no reference to a chunk once its write callback ran. */
function releasesOnCallback(destination: NodeJS.WritableStream): boolean {
  return (
    destination instanceof ServerResponse ||
    destination instanceof Socket ||
    destination instanceof WriteStream
  );
}
