import { describe, expect, it } from 'vitest';
import { createBitfield } from '../storage/bitfield.js';
import type { Metainfo } from '../metainfo/metainfo.js';
import type { OutgoingMessage, PeerConn } from '../conn/peer-conn.js';
import { createSwarmBlob, type BlobPeer } from './swarm-blob.js';
import { createSuperSeed } from './policy/super-seed-policy.js';
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
  return {
    conn,
    peerId,
    pieces: undefined,
    uploads: [],
    lastActive: 0,
    lastPieceAt: 0,
    busySince: 0,
    rate: undefined,
    reading: false,
    sent,
  };
}

const uploadsFor = () =>
  createSwarmUploads({
    uploadQueueLength: 8,
    blocked: new Set(),
    isCurrent: () => true,
    logger: { debug() {}, info() {}, warn() {} },
  });

/** One piece offered per peer at a time; offers are recorded in `offers`. */
const superSeedOf = (offers: [string, number][]) =>
  createSuperSeed({
    pieceCount: PIECES,
    window: 1,
    minCopies: 2,
    offer: (peerId, index) => offers.push([peerId, index]),
  });

const rejects = (p: { sent: OutgoingMessage[] }) =>
  p.sent.filter((m) => m.type === 'reject').map((m) => (m.type === 'reject' ? [m.index, m.reason] : []));

describe('swarm uploads', () => {
  it('as a super-seeding origin, serves offered pieces and refuses those offered to others', () => {
    const uploads = uploadsFor();
    const blob = seedingBlob();
    const offers: [string, number][] = [];
    blob.superSeed = superSeedOf(offers);
    const a = peer('a');
    const b = peer('b');
    blob.peers.set('a', a).set('b', b);
    expect(blob.superSeed.join('a')).toEqual([0]);
    expect(blob.superSeed.join('b')).toEqual([1]);
    uploads.onRequest(blob, a, 0);
    uploads.onRequest(blob, b, 0);
    expect(rejects(b)).toEqual([[0, 'overloaded']]);
    uploads.onRequest(blob, b, 1);
    expect(rejects(a)).toEqual([]);
    expect(rejects(b)).toEqual([[0, 'overloaded']]);
    expect(a.reading && b.reading).toBe(true);
  });

  it('as a super-seeding origin, offers the next piece once one is sent', async () => {
    const uploads = uploadsFor();
    const blob = seedingBlob();
    blob.readPiece = () => Promise.resolve(new Uint8Array(16));
    const offers: [string, number][] = [];
    blob.superSeed = superSeedOf(offers);
    const a = peer('a');
    blob.peers.set('a', a);
    blob.superSeed.join('a');
    uploads.onRequest(blob, a, 0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(a.sent.map((m) => m.type)).toEqual(['piece']);
    expect(offers).toEqual([['a', 1]]);
  });

  it('as any other peer, serves every request its queue has room for', () => {
    const uploads = uploadsFor();
    const blob = seedingBlob();
    const a = peer('a');
    const b = peer('b');
    blob.peers.set('a', a).set('b', b);
    uploads.onRequest(blob, a, 0);
    uploads.onRequest(blob, b, 0);
    expect(rejects(b)).toEqual([]);
  });
});
