// Lookup cost of the rendezvous ring: `npm run build -w @kraken/hashring && node bench/ring-lookup.mjs`.
import { createRing, createRingNode } from '../dist/index.js';

const keys = Array.from({ length: 200_000 }, (_, i) => `sha256:${i.toString(16).padStart(64, '0')}`);
for (const size of [3, 10, 50]) {
  const nodes = Array.from({ length: size }, (_, i) => createRingNode({ host: `10.0.0.${i}`, port: 15002 }));
  const ring = createRing({ nodes, replicas: 3 });
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    for (const key of keys) ring.owners(key);
    const micros = ((performance.now() - start) * 1000) / keys.length;
    if (round === 2) console.log(`${size} nodes: ${micros.toFixed(2)} µs per owners(key)`);
  }
}
