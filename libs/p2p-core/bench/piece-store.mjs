// Piece store throughput: `npm run build -w @kraken/p2p-core && node libs/p2p-core/bench/piece-store.mjs [dir]`.
// Writes a 256 MiB blob as 4 MiB pieces with 8 writes in flight (each piece is hashed,
// written, synced and its bitfield persisted), reads every piece back, then completes
// (a full re-hash) into a directory. Run it on the disk the agent will use.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Piece storage is private to the lib: the bench reads the built modules directly.
import { toMetainfo } from '../dist/metainfo/metainfo.js';
import { createPieceStore } from '../dist/storage/piece-store.js';

const PIECE = 4 * 1024 * 1024;
const PIECES = 64;
const IN_FLIGHT = 8;

const pieces = Array.from({ length: PIECES }, () => randomBytes(PIECE));
const whole = createHash('sha256');
for (const piece of pieces) whole.update(piece);
const metainfo = toMetainfo({
  digest: `sha256:${whole.digest('hex')}`,
  size: PIECE * PIECES,
  pieceLength: PIECE,
  pieceHashes: pieces.map((p) => createHash('sha256').update(p).digest('hex')),
});

const work = await mkdtemp(join(process.argv[2] ?? tmpdir(), 'piece-store-bench-'));
try {
  const partial = await createPieceStore({ dir: join(work, 'partial') }).open(metainfo);
  const mib = (PIECE * PIECES) / 1024 / 1024;
  const report = (name, start) => {
    const seconds = (performance.now() - start) / 1000;
    console.log(`${name}: ${(mib / seconds).toFixed(0)} MiB/s (${(seconds * 1000).toFixed(0)} ms)`);
  };

  let start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < PIECES) {
        const index = next++;
        await partial.writePiece(index, pieces[index]);
      }
    }),
  );
  report('write (verify + write + sync + bitfield)', start);

  start = performance.now();
  for (let i = 0; i < PIECES; i++) await partial.readPiece(i);
  report('read', start);

  start = performance.now();
  await partial.complete({ adopt: (digest, path) => rename(path, join(work, digest.hex)) });
  report('complete (re-hash + adopt)', start);
} finally {
  await rm(work, { recursive: true, force: true });
}
