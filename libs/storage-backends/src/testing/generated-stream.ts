/**
 * Deterministic generated content for storage tests: a stream of any length whose
 * bytes (and digest) are known without ever holding it in memory.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

const CHUNK = 1024 * 1024;

/** Byte i of the generated content; chunks differ so reordering would be caught. */
function chunkAt(index: number, length: number): Buffer {
  return Buffer.alloc(length, (index * 31 + 7) % 251);
}

export function generatedStream(size: number): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0, i = 0; offset < size; offset += CHUNK, i++)
        yield chunkAt(i, Math.min(CHUNK, size - offset));
    })(),
  );
}

/** sha256 hex of `generatedStream(size)`, computed chunk by chunk. */
export function generatedSha256(size: number): string {
  const hash = createHash('sha256');
  for (let offset = 0, i = 0; offset < size; offset += CHUNK, i++)
    hash.update(chunkAt(i, Math.min(CHUNK, size - offset)));
  return hash.digest('hex');
}

/** sha256 hex and byte count of a stream, consumed chunk by chunk. */
export async function sha256OfStream(
  stream: AsyncIterable<Uint8Array>,
): Promise<{ hex: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  return { hex: hash.digest('hex'), bytes };
}

/** A stream that sends `bytes` of data and then fails, like a client that disconnects. */
export function failingStream(bytes: number, error = new Error('source failed')): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(Buffer.alloc(bytes, 1));
        return;
      }
      setImmediate(() => this.destroy(error));
    },
  });
}

export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/**
 * A stream that sends `bytes` of data, then calls `onStall` and never ends; used to
 * abort a write at a known point instead of racing a timer.
 */
export function stallingStream(bytes: number, onStall: () => void): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (sent) return onStall();
      sent = true;
      this.push(Buffer.alloc(bytes, 2));
    },
  });
}
