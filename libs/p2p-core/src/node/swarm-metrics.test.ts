/**
 * The running peer's metrics move with its events: fetches by path and result, swarm
 * bytes by source, the node's swarms and the seeder's blobs.
 */
import { systemClock } from '@kraken/foundation';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMetrics } from '@kraken/service-kit';
import { parseDigest } from '@kraken/oci-content';
import { MIN_PIECE_LENGTH } from '../metainfo/piece-length.js';
import { createPieceReader } from '../storage/piece-reader.js';
import { silentSchedulerLogger } from '../scheduler/scheduler-deps.js';
import { blob, flush, setup } from '../testing/swarm-fetcher-harness.js';
import { memoryTracker } from '../testing/memory-tracker.js';
import { peerConfigSchema } from './peer-config.js';
import { createPeerNode } from './peer-node.js';
import { createSwarmSeeder } from './swarm-seeder.js';

describe('swarm fetcher metrics', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts fetches by path and result, and swarm bytes by source', async () => {
    const metrics = createMetrics('agent', { defaultMetrics: false });
    const { digest, metainfo } = blob(4);
    const h = setup({ metrics }, () => Promise.resolve(metainfo));
    const fetching = h.fetcher.fetch(digest, { size: metainfo.size, direct: () => Promise.resolve(false) });
    await flush();
    const [download] = h.scheduler.downloads;
    if (download === undefined) throw new Error('no swarm download started');
    h.scheduler.receive(digest.value, metainfo.size);
    await h.scheduler.complete(download);
    expect(await fetching).toBe(true);
    await h.fetcher.fetch(blob().digest, { size: 1, direct: () => Promise.resolve(true) });
    await h.fetcher.fetch(blob().digest, { size: 1, direct: () => Promise.resolve(false) });

    const text = await metrics.registry.metrics();
    expect(text).toContain('kraken_agent_blob_fetches_total{path="swarm",result="ok"} 1');
    expect(text).toContain('kraken_agent_blob_fetches_total{path="direct",result="ok"} 1');
    expect(text).toContain('kraken_agent_blob_fetches_total{path="direct",result="missing"} 1');
    expect(text).toContain(`kraken_agent_swarm_bytes_total{source="origin"} ${metainfo.size}`);
    expect(text).toContain('kraken_agent_swarm_bytes_total{source="peer"} 0');
    // The hook still sees every fetch.
    expect(h.outcomes).toHaveLength(3);
  });
});

describe('peer node and seeder metrics', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kraken-swarm-metrics-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gauge the blobs in a swarm, the peers connected and the blobs seeded', async () => {
    const metrics = createMetrics('origin', { defaultMetrics: false });
    const config = peerConfigSchema({ port: 0, dir: join(dir, 'p2p') }).parse({
      listen: { host: '127.0.0.1', port: 0 },
      advertiseHost: '127.0.0.1',
    });
    const node = createPeerNode({ config, announcer: memoryTracker(), origin: true, metrics });
    // Nobody asks for a piece: the hashes need not match.
    const data = Buffer.alloc(2 * MIN_PIECE_LENGTH, 1);
    const digest = parseDigest(`sha256:${'a'.repeat(64)}`);
    const metainfo = {
      digest: digest.value,
      size: data.length,
      pieceLength: MIN_PIECE_LENGTH,
      pieceHashes: ['0'.repeat(64), '1'.repeat(64)],
    };
    const seeder = createSwarmSeeder({
      scheduler: node.scheduler,
      metainfo: () => Promise.resolve(metainfo),
      readPiece: (info) => createPieceReader(info, () => Promise.resolve(Readable.from([data]))),
      idleMs: 60_000,
      maxBlobs: 10,
      timers: systemClock,
      logger: silentSchedulerLogger,
      metrics,
    });
    try {
      await node.start();
      expect(await metrics.registry.metrics()).toContain('kraken_origin_seeded_blobs 0');
      expect(await seeder.seed(digest)).toBe(true);
      const text = await metrics.registry.metrics();
      expect(text).toContain('kraken_origin_seeded_blobs 1');
      expect(text).toContain('kraken_origin_swarm_blobs 1');
      expect(text).toContain('kraken_origin_swarm_peers_connected 0');
    } finally {
      seeder.close();
      await node.close();
    }
    expect(await metrics.registry.metrics()).toContain('kraken_origin_swarm_blobs 0');
  });
});
