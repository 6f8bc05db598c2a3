import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestOf } from '@kraken/oci-content';
import { createBitfield } from '../storage/bitfield.js';
import { metainfoId, toMetainfo } from '../metainfo/metainfo.js';
import { MIN_PIECE_LENGTH } from '../metainfo/piece-length.js';
import { createSwarmBlob } from './swarm-blob.js';
import { createSwarmPieceWaiters } from './swarm-piece-waiters.js';

function blob(pieces: number) {
  const metainfo = toMetainfo({
    digest: digestOf('blob').value,
    size: MIN_PIECE_LENGTH * pieces,
    pieceLength: MIN_PIECE_LENGTH,
    pieceHashes: Array.from({ length: pieces }, (_, i) =>
      createHash('sha256').update(String(i)).digest('hex'),
    ),
  });
  return createSwarmBlob(metainfo, metainfoId(metainfo), createBitfield(pieces));
}

describe('swarm piece waiters', () => {
  it('names the lowest piece a reader still waits for', async () => {
    const waiters = createSwarmPieceWaiters();
    const b = blob(4);
    expect(waiters.waited(b)).toBeUndefined();
    const aborted = new AbortController();
    const third = waiters.wait(b, 2);
    const first = waiters.wait(b, 1, aborted.signal);
    expect(waiters.waited(b)).toBe(1);
    aborted.abort(new Error('client left'));
    await expect(first).rejects.toThrow('client left');
    // The reader of piece 1 left: piece 2 is the one waited for now.
    expect(waiters.waited(b)).toBe(2);
    b.have.set(2);
    waiters.release(b);
    await third;
    expect(waiters.waited(b)).toBeUndefined();
  });
});
