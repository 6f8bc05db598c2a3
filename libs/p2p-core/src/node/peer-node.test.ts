import { systemClock } from '@kraken/foundation';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { digestOf, parseDigest } from '@kraken/oci-content';
import { generateMetainfo } from '../metainfo/metainfo-generator.js';
import type { Metainfo } from '../metainfo/metainfo.js';
import { peerConfigSchema } from './peer-config.js';
import { createPeerNode, type PeerNode } from './peer-node.js';
import { createPieceReader } from '../storage/piece-reader.js';
import { silentSchedulerLogger, type SchedulerAnnouncer } from '../scheduler/scheduler-deps.js';
import { createSwarmFetcher, type SwarmFetcher } from './swarm-fetcher.js';
import { createSwarmSeeder } from './swarm-seeder.js';
import { memoryTracker } from '../testing/memory-tracker.js';

const PIECE = 256 * 1024;
const SIZE = 16 * PIECE; // 4 MiB, 16 pieces

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kraken-peer-node-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function startNode(tracker: SchedulerAnnouncer, origin: boolean): Promise<PeerNode & { dir: string }> {
  const dir = await tempDir();
  const config = peerConfigSchema({ port: 0, dir: join(dir, 'p2p') }).parse({
    listen: { host: '127.0.0.1', port: 0 },
    advertiseHost: '127.0.0.1',
    clusterId: 'test',
    scheduler: { announceIntervalMs: 200, tickMs: 100 },
  });
  const node = createPeerNode({ config, announcer: tracker, origin });
  cleanups.push(() => node.close());
  const bound = await node.start();
  expect(node.address()).toEqual(bound);
  expect(bound.port).toBeGreaterThan(0);
  return Object.assign(node, { dir });
}

async function testBlob(
  pieceHashing: 'sha256-chain' | 'sha256' = 'sha256-chain',
): Promise<{ data: Buffer; metainfo: Metainfo }> {
  const data = randomBytes(SIZE);
  const metainfo = await generateMetainfo(Readable.from([data]), {
    digest: digestOf(data).value,
    size: SIZE,
    pieceLength: PIECE,
    pieceHashing,
  });
  return { data, metainfo };
}

/** An agent's fetcher that adopts into `<dir>/blob`; `direct` copies `data` there. */
function agentFetcher(agent: PeerNode & { dir: string }, metainfo: Metainfo, fallbackAfterMs: number) {
  const target = join(agent.dir, 'blob');
  const fetcher: SwarmFetcher = createSwarmFetcher({
    scheduler: agent.scheduler,
    metainfo: () => Promise.resolve(metainfo),
    adopter: { adopt: (_digest, path) => rename(path, target) },
    pieceStore: agent.pieceStore,
    fallbackAfterMs,
    timers: systemClock,
    logger: silentSchedulerLogger,
  });
  const sha256 = async () =>
    `sha256:${createHash('sha256')
      .update(await readFile(target))
      .digest('hex')}`;
  return { fetcher, target, sha256 };
}

describe('createPeerNode with the seeder and the fetcher', () => {
  it.each(['sha256-chain', 'sha256'] as const)(
    'an agent gets a 16-piece blob from a seeding origin through the swarm (%s piece hashes)',
    async (pieceHashing) => {
      const tracker = memoryTracker();
      const { data, metainfo } = await testBlob(pieceHashing);
      const digest = parseDigest(metainfo.digest);
      const origin = await startNode(tracker, true);
      const seeder = createSwarmSeeder({
        scheduler: origin.scheduler,
        metainfo: (asked) => Promise.resolve(asked.value === metainfo.digest ? metainfo : undefined),
        readPiece: (info) =>
          createPieceReader(info, ({ start, end }) =>
            Promise.resolve(Readable.from([data.subarray(start, end + 1)])),
          ),
        idleMs: 60_000,
        maxBlobs: 10,
        timers: systemClock,
        logger: silentSchedulerLogger,
      });
      cleanups.push(async () => seeder.close());
      expect(await seeder.seed(digest)).toBe(true);

      const agent = await startNode(tracker, false);
      const { fetcher, sha256 } = agentFetcher(agent, metainfo, 10_000);
      let directCalls = 0;
      const direct = () => {
        directCalls++;
        return Promise.resolve(false);
      };
      expect(await fetcher.fetch(digest, { size: SIZE, direct })).toBe(true);
      expect(await sha256()).toBe(metainfo.digest);
      expect(directCalls).toBe(0);
      const status = fetcher.status(digest.value);
      expect(status).toMatchObject({
        path: 'swarm',
        state: 'done',
        swarm: { piecesDone: 16, pieceCount: 16 },
      });
      expect(status?.swarm?.bytesFromOrigins).toBeGreaterThan(0);
      expect(
        (status?.swarm?.bytesFromOrigins ?? 0) + (status?.swarm?.bytesFromPeers ?? 0),
      ).toBeGreaterThanOrEqual(SIZE);
      expect(origin.scheduler.status(metainfo.digest)?.bytesUploaded).toBeGreaterThanOrEqual(SIZE);
    },
    20_000,
  );

  it('an agent whose tracker knows no peers falls back to the origin after fallbackAfterMs', async () => {
    const { data, metainfo } = await testBlob();
    const digest = parseDigest(metainfo.digest);
    const agent = await startNode(memoryTracker(), false);
    const { fetcher, target, sha256 } = agentFetcher(agent, metainfo, 300);
    let partialsAtDirect: string[] = [];
    const startedAt = performance.now();
    let directAfterMs = 0;
    const direct = async () => {
      directAfterMs = performance.now() - startedAt;
      partialsAtDirect = (await agent.pieceStore.list()).map((d) => d.value);
      await writeFile(target, data);
      return true;
    };
    expect(await fetcher.fetch(digest, { size: SIZE, direct })).toBe(true);
    expect(await sha256()).toBe(metainfo.digest);
    expect(directAfterMs).toBeGreaterThanOrEqual(300);
    expect(fetcher.status(digest.value)).toMatchObject({
      path: 'fallback',
      state: 'done',
      reason: 'swarm failed: no piece arrived for 300 ms',
    });
    // The abandoned partial download stayed until the direct copy landed, then went.
    expect(partialsAtDirect).toEqual([digest.value]);
    expect(await agent.pieceStore.list()).toEqual([]);
    expect(agent.scheduler.status(metainfo.digest)).toBeUndefined();
  }, 20_000);

  it('close is idempotent and leaves every swarm', async () => {
    const { data, metainfo } = await testBlob();
    const node = await startNode(memoryTracker(), true);
    node.scheduler.seed(metainfo, {
      readPiece: createPieceReader(metainfo, ({ start, end }) =>
        Promise.resolve(Readable.from([data.subarray(start, end + 1)])),
      ),
    });
    expect(node.scheduler.list()).toHaveLength(1);
    await Promise.all([node.close(), node.close()]);
    expect(node.scheduler.list()).toEqual([]);
  });
});

describe('peerConfigSchema', () => {
  const schema = peerConfigSchema({ port: 16001, dir: '/var/cache/kraken/p2p' });

  it('fills in defaults for every field', () => {
    const config = schema.parse(undefined);
    expect(config).toMatchObject({
      listen: { host: '0.0.0.0', port: 16001 },
      advertiseHost: '0.0.0.0',
      clusterId: 'devcluster',
      dir: '/var/cache/kraken/p2p',
      scheduler: { maxPeersPerBlob: 16, pipelineDepth: 4 },
    });
    expect(schema.parse({})).toEqual(config);
  });

  it.each([
    ['an unknown key', { lissen: {} }, '', /lissen/],
    ['a bad cluster id', { clusterId: '-nope' }, 'clusterId', /1-63 characters/],
    ['a bracketed IPv6 advertise host', { advertiseHost: '[::1]' }, 'advertiseHost', /IPv6 without brackets/],
    ['a port out of range', { listen: { port: 70_000 } }, 'listen.port', /65535/],
    ['an unknown scheduler limit', { scheduler: { pipelinedepth: 4 } }, 'scheduler', /pipelinedepth/],
  ])('rejects %s and names the field', (_what, input, path, message) => {
    const result = schema.safeParse(input);
    expect(result.success).toBe(false);
    const [issue] = result.error?.issues ?? [];
    expect(issue?.path.join('.')).toBe(path);
    expect(issue?.message).toMatch(message);
  });
});
