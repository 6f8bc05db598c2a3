/**
 * The blob lists a handshake carries: the blobs this peer offers (seeding or done) and
 * the ones it wants (downloading), each capped so that a peer in thousands of swarms
 * still sends a handshake of bounded size.
 */
import type { SwarmBlob } from './swarm-blob.js';

const MAX_HANDSHAKE_LIST = 1000;

export function handshakeLists(blobs: Iterable<Pick<SwarmBlob, 'id' | 'state'>>): {
  offered: string[];
  wanted: string[];
} {
  const offered: string[] = [];
  const wanted: string[] = [];
  for (const blob of blobs) {
    if (blob.state === 'downloading') {
      if (wanted.length < MAX_HANDSHAKE_LIST) wanted.push(blob.id);
    } else if (offered.length < MAX_HANDSHAKE_LIST) {
      offered.push(blob.id);
    }
  }
  return { offered, wanted };
}
