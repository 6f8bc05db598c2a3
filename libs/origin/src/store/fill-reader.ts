/**
 * A reader of a fill in progress: streams an inclusive byte range of the temp file as
 * the fill writes it, waiting whenever it catches up. It ends only after the fill has
 * verified the whole blob; if the fill fails (bad digest, backend gone) the reader is
 * destroyed with that error, so a client never receives a complete-looking response
 * of content that did not check out.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { BlobFill } from './blob-fill.js';

const CHUNK = 256 * 1024;

export interface FillReaderOptions {
  readonly fill: BlobFill;
  readonly start: number;
  /** Last byte, inclusive; start − 1 for an empty range. */
  readonly end: number;
  /**
   * Called once the reader is closed, however it ended. The caller attached to the
   * fill (and pinned the blob) before the fill could finish, and lets go here.
   */
  readonly onClose: () => void;
}

export class FillReader extends Readable {
  readonly #fill: BlobFill;
  readonly #end: number;
  readonly #onClose: () => void;
  #position: number;
  #handle: FileHandle | undefined;
  #pumping = false;
  #wanted = false;

  constructor(options: FillReaderOptions) {
    super({ highWaterMark: CHUNK });
    this.#fill = options.fill;
    this.#position = options.start;
    this.#end = options.end;
    this.#onClose = options.onClose;
  }

  override _construct(callback: (err?: Error | null) => void): void {
    this.#fill.ready
      .then(() => open(this.#fill.path, 'r'))
      .then(
        (handle) => {
          this.#handle = handle;
          callback();
        },
        (err: unknown) => callback(err as Error),
      );
  }

  override _read(): void {
    // A call that arrives while a pump is still winding down must not be lost: the
    // stream asks only once until the next push.
    this.#wanted = true;
    if (this.#pumping) return;
    this.#pumping = true;
    this.#pump().then(
      () => {
        this.#pumping = false;
        if (this.#wanted && !this.destroyed) this._read();
      },
      (err: unknown) => {
        this.#pumping = false;
        this.destroy(err as Error);
      },
    );
  }

  /** Pushes what is available until the consumer is full, the range is done, or it must wait. */
  async #pump(): Promise<void> {
    const handle = this.#handle;
    if (handle === undefined) return;
    while (this.#wanted) {
      if (this.destroyed) return;
      const fill = this.#fill;
      if (fill.state === 'failed') throw fill.error;
      const available = Math.min(fill.written, this.#end + 1);
      if (this.#position < available) {
        const buffer = Buffer.allocUnsafe(Math.min(CHUNK, available - this.#position));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.#position);
        if (bytesRead === 0) throw new Error('fill file shorter than its written count');
        this.#position += bytesRead;
        this.#wanted = this.push(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
        continue;
      }
      if (this.#position > this.#end && fill.state === 'done') {
        this.#wanted = false;
        this.push(null);
        return;
      }
      // Caught up with the fill (or waiting for its verdict): wait for its next move.
      await fill.changed();
    }
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const handle = this.#handle;
    this.#handle = undefined;
    const finish = () => {
      this.#onClose();
      callback(err);
    };
    if (handle === undefined) finish();
    else handle.close().then(finish, finish);
  }
}
