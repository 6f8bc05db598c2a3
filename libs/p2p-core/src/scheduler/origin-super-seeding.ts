/**
 * Wires the super-seeding policy (scheduler/policy/super-seed-policy.ts) to one swarm
 * blob of an origin's scheduler: the policy's offers go out as HAVEs to the peer each
 * piece is offered to, with the window and copy bound an origin uses.
 */
import { createSuperSeed, type SuperSeed } from './policy/super-seed-policy.js';
import type { SwarmBlob } from './swarm-blob.js';

/**
 * Pieces offered to each peer at a time: two keep a request queued behind the piece on
 * the wire, so the origin's uplink never waits for a round trip.
 */
const WINDOW = 2;
/**
 * Once every piece left the origin, it offers each peer what it lacks, fewest holders
 * first, with no lower bound: with a bound of two holders, peers whose holding neighbours
 * left the blob unannounced waited on the origin forever (20-agent loopback swarm).
 */
const MIN_COPIES = Infinity;

export function createBlobSuperSeed(blob: SwarmBlob, firstPiece = 0): SuperSeed {
  return createSuperSeed({
    pieceCount: blob.metainfo.pieceHashes.length,
    window: WINDOW,
    minCopies: MIN_COPIES,
    firstPiece,
    offer: (peerId, index) => blob.peers.get(peerId)?.conn.send({ type: 'have', blobId: blob.id, index }),
  });
}
