// One process of the floor (floor-run.mjs forks one origin and N agents): the least work that
// delivering the blob to N clients through N agents takes, with nothing else. The peers form a
// chain, origin → agent 0 → agent 1 → … → agent N-1: the origin reads the blob once and sends it
// once, and every agent, for every byte, receives it over TCP, hashes it (sha256 per piece,
// checked against the metainfo), writes it to its file, reads it back, and sends it to the next
// agent (the last has none: N-1 uploads among N agents, as in the swarm) and to its client over
// HTTP. Pieces flow in order, so one read serves both sends. Everything that can be synchronous
// is (writeSync, readSync, one-shot hashing per piece): the cheapest CPU path Node offers.
//
// IPC from the parent: {type:'start', role, ...} → {type:'ready', peerPort?, httpPort?};
// {type:'wire', upstreamPort} → {type:'wired'}; disconnect ends the process.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer } from 'node:net';

const INDEX_BYTES = 4;
/** Piece buffers in flight (read back, not yet flushed to both sockets). */
const POOL = 16;

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

function dial(port) {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

const pieceLengthOf = (metainfo, index) =>
  Math.min(metainfo.pieceLength, metainfo.size - index * metainfo.pieceLength);

/** The origin: waits for agent 0, then sends every piece once, framed as u32 index · bytes. */
async function runOrigin({ blobPath, metainfo }) {
  const server = createServer({ noDelay: true }, (socket) => {
    socket.once('data', () => sendAll(socket));
  });
  process.send({ type: 'ready', peerPort: await listen(server) });

  function sendAll(socket) {
    const fd = openSync(blobPath, 'r');
    const count = metainfo.pieceHashes.length;
    let index = 0;
    const pump = () => {
      while (index < count) {
        const length = pieceLengthOf(metainfo, index);
        const frame = Buffer.allocUnsafe(INDEX_BYTES + length);
        frame.writeUInt32BE(index, 0);
        readSync(fd, frame, INDEX_BYTES, length, index * metainfo.pieceLength);
        index++;
        if (!socket.write(frame)) {
          socket.once('drain', pump);
          return;
        }
      }
      closeSync(fd);
      socket.end();
    };
    pump();
  }
}

/** An agent: receive, hash, write; read back; send on and to the client, in order. */
async function runAgent({ dataPath, metainfo, last }) {
  const fd = openSync(dataPath, 'w+');
  const pool = Array.from({ length: POOL }, () => Buffer.allocUnsafe(metainfo.pieceLength));
  let successor;
  let client;
  let upstream;

  const peerServer = createServer({ noDelay: true }, (socket) => {
    successor = socket;
    socket.on('drain', () => maybeResume());
    peerReady?.();
  });
  let peerReady;
  const successorConnected = last ? Promise.resolve() : new Promise((resolve) => (peerReady = resolve));
  const httpServer = createHttpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': metainfo.size });
    client = res;
    res.socket.setNoDelay(true);
    res.on('drain', () => maybeResume());
    // Agent 0 asks the origin to start once its client is there; the others start when their
    // predecessor sends.
    if (upstream !== undefined) {
      upstream.resume();
      if (first) upstream.write('g');
    }
  });
  let first = false;
  process.send({ type: 'ready', peerPort: await listen(peerServer), httpPort: await listen(httpServer) });

  process.on('message', async (msg) => {
    if (msg.type !== 'wire') return;
    first = msg.first;
    upstream = await dial(msg.upstreamPort);
    upstream.pause();
    upstream.on('data', onData);
    await successorConnected;
    process.send({ type: 'wired' });
  });

  // Frame decoding state: the index header, then the piece's bytes, hashed and written as they come.
  const header = Buffer.alloc(INDEX_BYTES);
  let headerFill = 0;
  let index = -1;
  let remaining = 0;
  let offset = 0;
  let hash;

  function onData(chunk) {
    let at = 0;
    while (at < chunk.length) {
      if (index < 0) {
        const take = Math.min(INDEX_BYTES - headerFill, chunk.length - at);
        chunk.copy(header, headerFill, at, at + take);
        headerFill += take;
        at += take;
        if (headerFill < INDEX_BYTES) return;
        headerFill = 0;
        index = header.readUInt32BE(0);
        remaining = pieceLengthOf(metainfo, index);
        offset = index * metainfo.pieceLength;
        hash = createHash('sha256');
      }
      const take = Math.min(remaining, chunk.length - at);
      const part = chunk.subarray(at, at + take);
      hash.update(part);
      writeSync(fd, part, 0, take, offset);
      offset += take;
      remaining -= take;
      at += take;
      if (remaining === 0) {
        if (hash.digest('hex') !== metainfo.pieceHashes[index]) throw new Error(`piece ${index} is corrupt`);
        forward(index);
        index = -1;
      }
    }
  }

  function forward(piece) {
    const length = pieceLengthOf(metainfo, piece);
    const buffer = pool.pop();
    if (buffer === undefined) throw new Error('piece pool exhausted');
    const bytes = buffer.subarray(0, length);
    readSync(fd, bytes, 0, length, piece * metainfo.pieceLength);
    let pending = successor === undefined ? 1 : 2;
    const release = () => {
      if (--pending > 0) return;
      pool.push(buffer);
      maybeResume();
    };
    if (successor !== undefined) {
      const frameHeader = Buffer.allocUnsafe(INDEX_BYTES);
      frameHeader.writeUInt32BE(piece, 0);
      successor.write(frameHeader);
      successor.write(bytes, release);
    }
    client.write(bytes, release);
    if (piece === metainfo.pieceHashes.length - 1) {
      client.end();
      successor?.end();
    }
    // Backpressure: stop reading while either socket is full or no buffer is free.
    if (blocked()) upstream.pause();
  }

  function blocked() {
    return pool.length === 0 || client.writableNeedDrain || (successor?.writableNeedDrain ?? false);
  }

  function maybeResume() {
    if (upstream?.isPaused() === true && client !== undefined && !blocked()) upstream.resume();
  }
}

process.once('message', (msg) => {
  const run = msg.role === 'origin' ? runOrigin(msg) : runAgent(msg);
  run.catch((err) => {
    console.error(`[floor-peer] ${msg.role}: ${err.stack ?? err}`);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
