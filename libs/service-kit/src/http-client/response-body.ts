/**
 * The body of an HTTP answer: a Readable over the response that fails with
 * HttpTimeoutError when data it waits for does not arrive within the body timeout. The
 * clock runs only while the reader wants data, so a slow reader (backpressure) is never
 * mistaken for a stalled server.
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { TimerHandle, Timers } from '@kraken/foundation';
import { HttpTimeoutError } from '../api/api-errors.js';

/** Bytes `dump()` reads to let the connection be reused; a longer body closes it instead. */
const DUMP_LIMIT = 128 * 1024;

export class HttpResponseBody extends Readable {
  readonly #response: IncomingMessage;
  readonly #timeoutMs: number;
  readonly #timers: Timers;
  readonly #what: string;
  #timer: TimerHandle | undefined;

  constructor(response: IncomingMessage, options: { timeoutMs: number; timers: Timers; what: string }) {
    super({ highWaterMark: 64 * 1024 });
    this.#response = response;
    this.#timeoutMs = options.timeoutMs;
    this.#timers = options.timers;
    this.#what = options.what;
    response.on('data', (chunk: Buffer) => {
      this.#stopTimer();
      if (!this.push(chunk)) response.pause();
    });
    response.once('end', () => {
      this.#stopTimer();
      this.push(null);
    });
    response.on('error', (err) => this.destroy(err));
    // A connection that closes before the last byte: Node reports it as an error on
    // the response, and 'close' without 'end' covers the rest.
    response.once('close', () => {
      if (!response.complete)
        this.destroy(new Error(`${this.#what}: connection closed before the body ended`));
    });
    response.pause();
  }

  override _read(): void {
    if (this.#timer === undefined && this.#timeoutMs > 0) {
      this.#timer = this.#timers.setTimeout(() => {
        this.#timer = undefined;
        this.destroy(new HttpTimeoutError(this.#what, 'body', this.#timeoutMs));
      }, this.#timeoutMs);
    }
    this.#response.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#stopTimer();
    if (!this.#response.complete) this.#response.destroy();
    callback(error);
  }

  /** Reads the rest and drops it (the connection is kept) or, past 128 KiB, closes it. */
  async dump(): Promise<void> {
    let read = 0;
    try {
      for await (const chunk of this) {
        read += (chunk as Buffer).byteLength;
        if (read > DUMP_LIMIT) break;
      }
    } catch {
      // A body that fails while it is thrown away changes nothing for the caller.
    }
    if (!this.readableEnded) this.destroy();
  }

  /** The whole body as UTF-8; only for answers known to be small. */
  async text(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of this) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  /** The whole body parsed as JSON; only for answers known to be small. */
  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  #stopTimer(): void {
    if (this.#timer === undefined) return;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
