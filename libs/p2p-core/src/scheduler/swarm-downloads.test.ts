import { describe, expect, it } from 'vitest';
import { createBitfield, type Bitfield } from '../storage/bitfield.js';
import type { Metainfo } from '../metainfo/metainfo.js';
import type { OutgoingMessage, PeerConn } from '../conn/peer-conn.js';
import type { PartialBlob } from '../storage/partial-blob.js';
import { createPeerBlacklist } from './policy/peer-blacklist.js';
import { createPiecePicker } from './policy/rarest-first-policy.js';
import { createSuperSeed } from './policy/super-seed-policy.js';
import { createSwarmBlob, type BlobPeer, type SwarmBlob } from './swarm-blob.js';
import { createSwarmDownloads } from './swarm-downloads.js';

const PIECES = 4;
const metainfo: Metainfo = {
  digest: `sha256:${'b'.repeat(64)}`,
  size: PIECES * 16,
  pieceLength: 16,
  pieceHashes: Array.from({ length: PIECES }, () => '0'.repeat(64)),
};

function bitfield(indices: readonly number[]): Bitfield {
  const bits = createBitfield(PIECES);
  for (const i of indices) bits.set(i);
  return bits;
}

function peer(peerId: string, pieces: Bitfield): BlobPeer & { sent: OutgoingMessage[] } {
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
    pieces,
    uploads: [],
    lastActive: 0,
    lastPieceAt: 0,
    busySince: 0,
    rate: undefined,
    reading: false,
    sent,
  };
}

/** A blob being downloaded whose pieces verify and land at once; `o` is the origin. */
function downloading(peers: BlobPeer[]): SwarmBlob {
  const blob = createSwarmBlob(metainfo, 'blob-1', createBitfield(PIECES));
  blob.partial = { writePiece: () => Promise.resolve(true), keep() {} } as unknown as PartialBlob;
  blob.picker = createPiecePicker({
    pieceCount: PIECES,
    have: blob.have,
    now: () => 0,
    isOrigin: (peerId) => peerId === 'o',
  });
  for (const p of peers) {
    blob.peers.set(p.peerId, p);
    if (p.pieces !== undefined) blob.picker.addPeer(p.peerId, p.pieces);
  }
  return blob;
}

const downloadsFor = () =>
  createSwarmDownloads({
    now: () => 0,
    isCurrent: () => true,
    isOrigin: (peerId) => peerId === 'o',
    blacklist: createPeerBlacklist({ now: () => 0 }),
    detach: () => {},
    connectMore: () => {},
    onCompleted: () => {},
    finish: () => {},
    logger: { debug() {}, info() {}, warn() {} },
  });

const haves = (p: { sent: OutgoingMessage[] }) => p.sent.flatMap((m) => (m.type === 'have' ? [m.index] : []));

const landed = () => new Promise((resolve) => setImmediate(resolve));

describe('swarm downloads', () => {
  it('tells an origin about an offered piece that came from another peer, so its offers move on', async () => {
    // The origin's side: it offers us two pieces at a time and shows us only those.
    const offers: number[] = [];
    const superSeed = createSuperSeed({
      pieceCount: PIECES,
      window: 2,
      minCopies: Infinity,
      offer: (_peerId, index) => offers.push(index),
    });
    const origin = peer('o', bitfield(superSeed.join('us')));
    const agent = peer('z', bitfield([0, 1, 2, 3]));
    const blob = downloading([origin, agent]);
    const downloads = downloadsFor();

    downloads.onPiece(blob, agent, 0, new Uint8Array(16));
    await landed();
    // Its bitfield showed piece 0, yet it hears that we hold it: the offer is spent.
    expect(haves(origin)).toEqual([0]);
    for (const index of haves(origin)) superSeed.peerHas('us', index);
    expect(offers).toEqual([2]);
    // A plain peer that holds the piece is not told.
    expect(haves(agent)).toEqual([]);
  });

  it('does not tell the origin a piece it sent', async () => {
    const origin = peer('o', bitfield([0, 1]));
    const blob = downloading([origin, peer('z', bitfield([1, 2]))]);
    const downloads = downloadsFor();
    downloads.onPiece(blob, origin, 0, new Uint8Array(16));
    await landed();
    expect(haves(origin)).toEqual([]);
  });
});
