// The load generator's HTTP/1.1 client: `connections` keep-alive TCP connections to the tracker,
// one request in flight on each, and a queue for requests waiting for a free connection.
//
// Why not undici (which the generator used before): undici hands every socket read to
// JavaScript as a fresh Buffer, and at 20,000 answers of 5–6 KB a second that is over 100 MB/s
// of short-lived memory outside V8's heap. V8 answers such growth with major collections, and
// the generator ran bursts of them, 50–120 ms a second, holding answers it had already
// received: the latency it reported then was its own. Here every connection reads into one
// shared buffer (node's `onread`), consumed before the next read, so a read allocates nothing;
// only the answers chosen for checking are copied out, each into a buffer of its own size. A body
// may span many reads (a batch answer is 90 KB in binary, 300 KB in JSON): it is counted as it
// streams past, and copied only when kept.
//
// It parses what the tracker sends: a status line, headers with a content-length, a body. An
// answer without a content-length, or anything after the body, fails the connection.
import net from 'node:net';

const READ_BUFFER_BYTES = 256 * 1024;
const MAX_HEADER_BYTES = 16 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * `accept` is the answer asked for, the same on every request; `path` is per request
 * (`/v1/announce`, `/v1/announce/batch`).
 *
 * @param {{ host: string, port: number, connections: number, accept: string }} options
 * @returns {{
 *   announce(request: {
 *     path: string,
 *     body: string,
 *     keepBody: boolean,
 *     done: (status: number, body: Buffer | undefined, error: string | undefined) => void,
 *   }): void,
 *   close(): Promise<void>,
 * }}
 */
export function createAnnounceConnections({ host, port, connections, accept }) {
  const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  const queue = [];
  let queueHead = 0;
  const idle = [];
  const all = new Set();
  let closed = false;

  const open = () => {
    const conn = {
      socket: undefined,
      request: undefined,
      header: Buffer.allocUnsafe(MAX_HEADER_BYTES),
      headerBytes: 0,
      status: 0,
      remaining: -1,
      body: undefined,
      bodyBytes: 0,
    };
    conn.socket = net.connect({
      host,
      port,
      noDelay: true,
      onread: { buffer: readBuffer, callback: (n) => onRead(conn, n) },
    });
    let connected = false;
    conn.socket.on('connect', () => {
      connected = true;
      release(conn);
    });
    conn.socket.on('error', () => {});
    conn.socket.on('close', () => {
      all.delete(conn);
      const i = idle.indexOf(conn);
      if (i !== -1) idle.splice(i, 1);
      if (conn.request !== undefined) finish(conn, 0, 'connection closed');
      // A connection the tracker closed is replaced at once; one that never connected, later.
      if (!closed) setTimeout(open, connected ? 0 : 100);
    });
    all.add(conn);
  };

  /** A connection is free: it takes the next queued request, or waits. */
  const release = (conn) => {
    if (queueHead < queue.length) {
      const next = queue[queueHead];
      queue[queueHead++] = undefined;
      if (queueHead > 4096 && queueHead * 2 > queue.length) {
        queue.splice(0, queueHead);
        queueHead = 0;
      }
      send(conn, next);
    } else idle.push(conn);
  };

  const send = (conn, request) => {
    conn.request = request;
    conn.headerBytes = 0;
    conn.remaining = -1;
    conn.bodyBytes = 0;
    conn.socket.write(
      `POST ${request.path} HTTP/1.1\r\nhost: ${host}:${port}\r\ncontent-type: application/json\r\naccept: ${accept}\r\n` +
        `content-length: ${Buffer.byteLength(request.body)}\r\n\r\n${request.body}`,
    );
  };

  const finish = (conn, status, error) => {
    const request = conn.request;
    conn.request = undefined;
    const body = request.keepBody && error === undefined ? conn.body : undefined;
    conn.body = undefined;
    request.done(status, body, error);
  };

  const fail = (conn, error) => {
    if (conn.request !== undefined) finish(conn, 0, error);
    conn.socket.destroy();
  };

  /** `n` bytes of `readBuffer` arrived on `conn`; consumed here, before the next read. */
  const onRead = (conn, n) => {
    let at = 0;
    while (at < n) {
      if (conn.request === undefined) return fail(conn, 'bytes after the answer');
      if (conn.remaining === -1) {
        const take = Math.min(n - at, MAX_HEADER_BYTES - conn.headerBytes);
        readBuffer.copy(conn.header, conn.headerBytes, at, at + take);
        const searchFrom = Math.max(0, conn.headerBytes - 3);
        conn.headerBytes += take;
        const end = conn.header.subarray(0, conn.headerBytes).indexOf(HEADER_END, searchFrom);
        if (end === -1) {
          if (conn.headerBytes === MAX_HEADER_BYTES) return fail(conn, 'answer headers too large');
          at += take;
          continue;
        }
        const head = conn.header.toString('latin1', 0, end);
        const status = Number(head.slice(9, 12));
        const length = /\r\ncontent-length: *(\d+)/i.exec(head);
        if (!head.startsWith('HTTP/1.1 ') || length === null)
          return fail(conn, 'answer without content-length');
        conn.status = status;
        conn.remaining = Number(length[1]);
        // Handed to the caller as it is: one allocation per kept answer, none kept per connection.
        if (conn.request.keepBody) conn.body = Buffer.allocUnsafe(conn.remaining);
        // The part of this read after the headers is body.
        at += end + HEADER_END.length - (conn.headerBytes - take);
      } else {
        const take = Math.min(n - at, conn.remaining);
        if (conn.request.keepBody) readBuffer.copy(conn.body, conn.bodyBytes, at, at + take);
        conn.bodyBytes += take;
        conn.remaining -= take;
        at += take;
      }
      if (conn.remaining === 0) {
        finish(conn, conn.status, undefined);
        release(conn);
      }
    }
  };

  for (let i = 0; i < connections; i++) open();

  return {
    announce(request) {
      const conn = idle.pop();
      if (conn === undefined) queue.push(request);
      else send(conn, request);
    },
    async close() {
      closed = true;
      await Promise.all(
        [...all].map((conn) => new Promise((resolve) => conn.socket.end(resolve).once('close', resolve))),
      );
    },
  };
}
