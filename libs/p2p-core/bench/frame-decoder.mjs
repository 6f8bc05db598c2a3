// Frame decoding throughput: `npm run build -w @kraken/p2p-core && node libs/p2p-core/bench/frame-decoder.mjs`.
// Control traffic (have/request) and piece traffic, fed in socket-sized 64 KiB chunks.
import { createHash } from 'node:crypto';
// The wire format is private to the lib: the bench reads the built modules directly.
import { createFrameDecoder } from '../dist/wire/frame-decoder.js';
import { encodeMessage } from '../dist/wire/frame-encoder.js';
import { PROTOCOL_VERSION } from '../dist/wire/messages.js';

const blobId = createHash('sha256').update('bench').digest('hex');
const hello = encodeMessage({
  type: 'handshake',
  version: PROTOCOL_VERSION,
  clusterId: 'bench',
  peerId: 'ab'.repeat(20),
  offered: [blobId],
  wanted: [],
});

function run(name, messages, rounds) {
  const stream = Buffer.concat([...hello, ...messages.flatMap((m) => encodeMessage(m))]);
  const chunks = [];
  for (let at = 0; at < stream.length; at += 64 * 1024) chunks.push(stream.subarray(at, at + 64 * 1024));
  for (let round = 0; round < rounds; round++) {
    const decoder = createFrameDecoder({ clusterId: 'bench' });
    let count = 0;
    const start = performance.now();
    for (const chunk of chunks) count += decoder.feed(chunk).messages.length;
    const seconds = (performance.now() - start) / 1000;
    if (decoder.error) throw decoder.error;
    if (round === rounds - 1) {
      const mib = stream.length / 1024 / 1024;
      console.log(`${name}: ${Math.round(count / seconds)} msgs/s, ${(mib / seconds).toFixed(0)} MiB/s`);
    }
  }
}

const control = Array.from({ length: 200_000 }, (_, i) =>
  i % 2 === 0 ? { type: 'have', blobId, index: i % 2048 } : { type: 'request', blobId, index: i % 2048 },
);
run('control frames', control, 5);

const payload = Buffer.alloc(4 * 1024 * 1024, 1);
const pieces = Array.from({ length: 64 }, (_, i) => ({ type: 'piece', blobId, index: i, payload }));
run('4 MiB piece frames', pieces, 5);
