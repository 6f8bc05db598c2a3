import { describe, expect, it } from 'vitest';
import { createBitfield } from './bitfield.js';
import type { Metainfo } from './metainfo.js';
import type { OutgoingMessage, PeerConn } from './peer-conn.js';
import { createSwarmBlob, type BlobPeer } from './swarm-blob.js';
import { createSwarmUploads } from './swarm-uploads.js';

const PIECES = 4;
const metainfo: Metainfo = {
  digest: `sha256:${'a'.repeat(64)}`,
  size: PIECES * 16,
  pieceLength: 16,
  pieceHashes: Array.from({ length: PIECES }, () => '0'.repeat(64)),
};

function seedingBlob() {
  const have = createBitfield(PIECES);
  for (let i = 0; i < PIECES; i++) have.set(i);
  const blob = createSwarmBlob(metainfo, 'blob-1', have);
  blob.state = 'seeding';
  // Reads never settle: requests stay queued, as behind a slow uplink.
  blob.readPiece = () => new Promise(() => {});
  return blob;
}

function peer(peerId: string): BlobPeer & { sent: OutgoingMessage[] } {
  const sent: OutgoingMessage[] = [];
  const conn = {
    state: 'open',
    send: (message: OutgoingMessage) => {
      sent.push(message);
      return true;
    },
  } as unknown as PeerConn;
  return { conn, peerId, pieces: undefined, uploads: [], lastActive: 0, reading: false, sent };
}

const rejects = (p: { sent: OutgoingMessage[] }) =>
  p.sent.filter((m) => m.type === 'reject').map((m) => (m.type === 'reject' ? [m.index, m.reason] : []));

describe('swarm uploads', () => {
  it('as an origin, refuses a second copy of a piece while other pieces have not gone out', () => {
    const uploads = createSwarmUploads({
      uploadQueueLength: 8,
      blocked: new Set(),
      isCurrent: () => true,
      logger: { debug() {}, info() {}, warn() {} },
      superSeed: true,
    });
    const blob = seedingBlob();
    const a = peer('a');
    const b = peer('b');
    blob.peers.set('a', a).set('b', b);
    uploads.onRequest(blob, a, 0);
    uploads.onRequest(blob, b, 0);
    expect(rejects(b)).toEqual([[0, 'overloaded']]);
    uploads.onRequest(blob, b, 1);
    uploads.onRequest(blob, b, 2);
    uploads.onRequest(blob, a, 3);
    // Every piece went out once: from now on copies are served again.
    uploads.onRequest(blob, b, 0);
    expect(rejects(b)).toEqual([[0, 'overloaded']]);
    expect(b.uploads).toContain(0);
  });

  it('as any other peer, serves every request its queue has room for', () => {
    const uploads = createSwarmUploads({
      uploadQueueLength: 8,
      blocked: new Set(),
      isCurrent: () => true,
      logger: { debug() {}, info() {}, warn() {} },
    });
    const blob = seedingBlob();
    const a = peer('a');
    const b = peer('b');
    blob.peers.set('a', a).set('b', b);
    uploads.onRequest(blob, a, 0);
    uploads.onRequest(blob, b, 0);
    expect(rejects(b)).toEqual([]);
  });
});
