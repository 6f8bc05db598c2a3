/**
 * An origin's super-seeding of one swarm blob (see super-seed.ts): the offers go out as
 * HAVEs to the peer each piece is offered to.
 */
import { createSuperSeed, type SuperSeed } from './super-seed.js';
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
