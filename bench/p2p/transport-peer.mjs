// One peer of the transport-cost bench (transport-cost.mjs forks two per run): a seeder of the
// blob file, or a downloader that takes it from the seeder through the swarm. Each is a real
// PeerNode of @kraken/p2p-core with the app's defaults, in the membership mode it is given, in a
// process of its own so that each side has its own event loop and its own CPU count.
//
// Messages from the parent: {type: 'start', role, mode, ...} → {type: 'ready', port, peerId};
// {type: 'go', seeder?} → (downloader) {type: 'done', seconds, cpuSeconds} | (both) on
// {type: 'report'} → {type: 'cpu', cpuSeconds}.
import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createPeerNode, createPieceReader, peerConfigSchema } from '@kraken/p2p-core';

let node;
let cpuAt;
let blob;

const cpuSince = (start) => {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1e6;
};

function membership({ mode, tls, tokenFile }) {
  if (mode === 'tls') return { tls };
  if (mode === 'token') return { clusterTokenFile: tokenFile };
  return {};
}

async function start(msg) {
  blob = msg.blob;
  let seederAddress;
  const announcer = {
    announce: () =>
      Promise.resolve({ peers: seederAddress === undefined ? [] : [seederAddress], intervalSeconds: 3 }),
  };
  const config = peerConfigSchema({ port: 0, dir: join(msg.dir, 'p2p') }).parse({
    listen: { host: '127.0.0.1', port: 0 },
    advertiseHost: '127.0.0.1',
    clusterId: 'bench-transport',
    ...membership(msg),
  });
  node = createPeerNode({ config, announcer, origin: false });
  const { port } = await node.start();
  if (msg.role === 'seeder') {
    node.scheduler.seed(blob.metainfo, {
      readPiece: createPieceReader(blob.metainfo, ({ start: from, end }) =>
        Promise.resolve(createReadStream(blob.path, { start: from, end })),
      ),
    });
  }
  process.on('message', (next) => {
    if (next.type === 'go') void go(next, (address) => (seederAddress = address));
    else if (next.type === 'report') process.send({ type: 'cpu', cpuSeconds: cpuSince(cpuAt) });
  });
  process.send({ type: 'ready', port, peerId: node.peerId });
}

async function go(msg, setSeeder) {
  cpuAt = process.cpuUsage();
  if (msg.seeder === undefined) return;
  setSeeder({ ...msg.seeder, host: '127.0.0.1', complete: true, origin: false });
  const startedAt = performance.now();
  await node.scheduler.download(blob.metainfo, {
    // The blob was verified whole by now; the bench keeps no copy.
    adopter: { adopt: (_digest, path) => unlink(path) },
  });
  process.send({
    type: 'done',
    seconds: (performance.now() - startedAt) / 1000,
    cpuSeconds: cpuSince(cpuAt),
  });
}

process.once('message', (msg) => {
  start(msg).catch((err) => {
    console.error(`[transport-peer] ${msg.role}: ${err.stack ?? err}`);
    process.exit(1);
  });
});
process.on('disconnect', () => {
  void (node?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
