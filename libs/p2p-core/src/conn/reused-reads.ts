/**
 * Plain TCP connections that read into one reused buffer (node's `onread`). A socket read
 * the usual way hands over every chunk in a fresh buffer of at most 64 KiB: at wire speed
 * that is thousands of short-lived buffers a second, which V8 counts against the heap's
 * limits until a collection frees them, so a busy peer runs full garbage collections back
 * to back, and each chunk also goes through the stream machinery. Measured on loopback,
 * reading 1 GiB cost 0.5 CPU-seconds the usual way and 0.16 into a 256 KiB buffer (fewer,
 * larger reads, nothing for the collector), and receiving it through the frame decoder
 * 1.2 against 0.3.
 *
 * Every connection of a connection manager shares the buffer: reads happen one at a time
 * on the event loop, and each chunk is consumed before the next read. A chunk is only
 * valid while its listener runs; the frame decoder copies out what it keeps
 * (`transientChunks`). TLS connections are read the usual way: TLS reads its socket itself.
 */
import net from 'node:net';

/** Where a socket's chunks go; each is only valid during the call. */
export interface ChunkSource {
  /**
   * Sets the receiver of the chunks. Chunks that arrived before (while the connection was
   * being admitted) are delivered first; the socket stays paused until then.
   */
  listen(listener: (chunk: Buffer) => void): void;
}

export interface ReusedReadSocket {
  readonly socket: net.Socket;
  readonly chunks: ChunkSource;
}

export interface ReusedReads {
  /** Dials `target`; the socket reads into the shared buffer. */
  dial(target: { host: string; port: number }): ReusedReadSocket;
  /**
   * Takes over an accepted connection that has read nothing yet (its server listens with
   * `pauseOnConnect`): node gives servers no `onread`, so its handle moves to a socket made
   * with one, and the original socket is discarded. When the handle is not at hand, the
   * connection is resumed and read the usual way (undefined).
   */
  adopt(accepted: net.Socket): ReusedReadSocket | undefined;
}

/** Default size of the shared read buffer: a few TCP windows' worth of loopback reads. */
export const DEFAULT_READ_BUFFER_BYTES = 256 * 1024;

export function createReusedReads(bufferBytes = DEFAULT_READ_BUFFER_BYTES): ReusedReads {
  const buffer = Buffer.allocUnsafeSlow(bufferBytes);

  /** The `onread` option of one socket, and its ChunkSource; `attach` names the socket once made. */
  function reader(): {
    onread: net.OnReadOpts;
    chunks: ChunkSource;
    attach(socket: net.Socket): ReusedReadSocket;
  } {
    let socket: net.Socket | undefined;
    let listener: ((chunk: Buffer) => void) | undefined;
    const early: Buffer[] = [];
    // Returning false from the callback stops reading without marking the stream paused.
    let held = false;
    const onread: net.OnReadOpts = {
      buffer: () => buffer,
      // Every read lands in `buffer`: the function above hands out no other.
      callback: (bytes) => {
        const chunk = buffer.subarray(0, bytes);
        if (listener !== undefined) {
          listener(chunk);
          return true;
        }
        // Nobody reads yet: keep a copy (the buffer is reused) and read no more.
        early.push(Buffer.from(chunk));
        held = true;
        return false;
      },
    };
    const chunks: ChunkSource = {
      listen(next) {
        listener = next;
        for (const chunk of early.splice(0)) next(chunk);
        if (held) {
          held = false;
          socket?.resume();
        }
      },
    };
    return {
      onread,
      chunks,
      attach(made) {
        socket = made;
        return { socket: made, chunks };
      },
    };
  }

  return {
    dial({ host, port }) {
      const { onread, attach } = reader();
      return attach(net.connect({ host, port, onread }));
    },

    adopt(accepted) {
      const handle = (accepted as net.Socket & { _handle?: unknown })._handle;
      if (handle === undefined || handle === null || accepted.destroyed) {
        accepted.resume();
        return undefined;
      }
      // The handle now belongs to the new socket: the old one must neither read nor close it.
      (accepted as net.Socket & { _handle?: unknown })._handle = null;
      accepted.destroy();
      const { onread, attach } = reader();
      // `handle` is not in the public constructor options; it is how node's own server does it.
      const options = { handle, readable: true, writable: true, onread };
      return attach(new net.Socket(options as net.SocketConstructorOpts));
    },
  };
}
