/**
 * A small pool of equally sized buffers for the blob-serving hot path. Streaming a
 * blob with a fresh buffer per chunk allocates external memory at wire speed, and V8
 * answers with full garbage collections: measured on loopback with a production-sized
 * heap, serving cost about 4 s of CPU per GiB that way against about 1 s with reused
 * buffers. Buffers return to the pool only once nothing references them any more.
 */
export interface BufferPool {
  readonly bufferSize: number;
  take(): Buffer;
  give(buffer: Buffer): void;
}

export function createBufferPool(options: { bufferSize: number; maxPooled: number }): BufferPool {
  const free: Buffer[] = [];
  return {
    bufferSize: options.bufferSize,
    take() {
      return free.pop() ?? Buffer.allocUnsafeSlow(options.bufferSize);
    },
    give(buffer) {
      if (buffer.length === options.bufferSize && free.length < options.maxPooled) free.push(buffer);
    },
  };
}
