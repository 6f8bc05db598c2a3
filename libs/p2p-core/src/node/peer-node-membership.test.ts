/**
 * Whole peers (scheduler, connections, admission) over loopback: a blob goes from an
 * origin to an agent in each membership mode, and a peer outside the cluster (a
 * certificate of another CA, a wrong token) gets no piece of it.
 */
import { systemClock } from '@kraken/foundation';
import { createMetrics, type Metrics } from '@kraken/service-kit';
import { digestOf, parseDigest } from '@kraken/oci-content';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MembershipConfig } from '../conn/membership-config.js';
import { generateMetainfo } from '../metainfo/metainfo-generator.js';
import type { Metainfo } from '../metainfo/metainfo.js';
import { silentSchedulerLogger, type SchedulerAnnouncer } from '../scheduler/scheduler-deps.js';
import { createPieceReader } from '../storage/piece-reader.js';
import { memoryTracker } from '../testing/memory-tracker.js';
import {
  createTestCa,
  issueTestCertificate,
  type TestCa,
  type TestCertificate,
} from '../testing/test-certificates.js';
import { peerConfigSchema } from './peer-config.js';
import { createPeerNode, type PeerNode } from './peer-node.js';
import { createSwarmFetcher } from './swarm-fetcher.js';
import { createSwarmSeeder } from './swarm-seeder.js';

const PIECE = 256 * 1024;
const SIZE = 12 * PIECE;

let dir: string;
let cluster: TestCa;
let certs: Record<'origin' | 'agent' | 'rogue', TestCertificate>;
let tokenFile: string;
let wrongTokenFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kraken-membership-'));
  cluster = await createTestCa(dir, 'cluster');
  const other = await createTestCa(dir, 'other');
  certs = {
    origin: await issueTestCertificate(cluster, 'origin'),
    agent: await issueTestCertificate(cluster, 'agent'),
    rogue: await issueTestCertificate(other, 'rogue'),
  };
  tokenFile = join(dir, 'cluster-token');
  await writeFile(tokenFile, `${randomBytes(32).toString('hex')}\n`);
  wrongTokenFile = join(dir, 'wrong-token');
  await writeFile(wrongTokenFile, randomBytes(32).toString('hex'));
}, 30_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const modes: Record<'plain' | 'token' | 'tls', (cert: TestCertificate) => MembershipConfig> = {
  plain: () => ({}),
  token: () => ({ clusterTokenFile: tokenFile }),
  tls: (cert) => ({ tls: { ...cert, caFile: cluster.caFile } }),
};

async function startNode(options: {
  name: string;
  tracker: SchedulerAnnouncer;
  origin: boolean;
  membership: MembershipConfig;
  metrics?: Metrics;
}): Promise<PeerNode & { dir: string }> {
  const nodeDir = join(dir, `${options.name}-${randomBytes(4).toString('hex')}`);
  const config = peerConfigSchema({ port: 0, dir: join(nodeDir, 'p2p') }).parse({
    listen: { host: '127.0.0.1', port: 0 },
    advertiseHost: '127.0.0.1',
    clusterId: 'test',
    scheduler: { announceIntervalMs: 100, tickMs: 100 },
    ...options.membership,
  });
  const node = createPeerNode({
    config,
    announcer: options.tracker,
    origin: options.origin,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  });
  cleanups.push(() => node.close());
  await node.start();
  return Object.assign(node, { dir: nodeDir });
}

async function testBlob(): Promise<{ data: Buffer; metainfo: Metainfo }> {
  const data = randomBytes(SIZE);
  const metainfo = await generateMetainfo(Readable.from([data]), {
    digest: digestOf(data).value,
    size: SIZE,
    pieceLength: PIECE,
  });
  return { data, metainfo };
}

/** An origin node seeding `data`. */
async function seedingOrigin(
  tracker: SchedulerAnnouncer,
  membership: MembershipConfig,
  blob: { data: Buffer; metainfo: Metainfo },
  metrics?: Metrics,
): Promise<PeerNode> {
  const origin = await startNode({
    name: 'origin',
    tracker,
    origin: true,
    membership,
    ...(metrics ? { metrics } : {}),
  });
  const seeder = createSwarmSeeder({
    scheduler: origin.scheduler,
    metainfo: (asked) => Promise.resolve(asked.value === blob.metainfo.digest ? blob.metainfo : undefined),
    readPiece: (info) =>
      createPieceReader(info, ({ start, end }) =>
        Promise.resolve(Readable.from([blob.data.subarray(start, end + 1)])),
      ),
    idleMs: 60_000,
    maxBlobs: 10,
    timers: systemClock,
    logger: silentSchedulerLogger,
  });
  cleanups.push(() => seeder.close());
  expect(await seeder.seed(parseDigest(blob.metainfo.digest))).toBe(true);
  return origin;
}

async function until(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('peers of the cluster', () => {
  it.each(['plain', 'token', 'tls'] as const)(
    'swarm a blob to an agent, verified (%s)',
    async (mode) => {
      const tracker = memoryTracker();
      const blob = await testBlob();
      const origin = await seedingOrigin(tracker, modes[mode](certs.origin), blob);
      const agent = await startNode({
        name: 'agent',
        tracker,
        origin: false,
        membership: modes[mode](certs.agent),
      });
      expect([origin.membership, agent.membership]).toEqual([mode, mode]);
      const target = join(agent.dir, 'blob');
      const fetcher = createSwarmFetcher({
        scheduler: agent.scheduler,
        metainfo: () => Promise.resolve(blob.metainfo),
        adopter: { adopt: (_digest, path) => rename(path, target) },
        pieceStore: agent.pieceStore,
        fallbackAfterMs: 20_000,
        timers: systemClock,
        logger: silentSchedulerLogger,
      });
      const digest = parseDigest(blob.metainfo.digest);
      expect(await fetcher.fetch(digest, { size: SIZE, direct: () => Promise.resolve(false) })).toBe(true);
      const stored = await readFile(target);
      expect(`sha256:${createHash('sha256').update(stored).digest('hex')}`).toBe(blob.metainfo.digest);
      expect(fetcher.status(digest.value)).toMatchObject({
        path: 'swarm',
        state: 'done',
        swarm: { piecesDone: 12, pieceCount: 12 },
      });
    },
    30_000,
  );
});

describe('a peer outside the cluster', () => {
  it.each([
    ['a certificate of another CA', 'tls'],
    ['a wrong cluster token', 'token'],
  ] as const)(
    'with %s is refused and receives no piece',
    async (_what, mode) => {
      const tracker = memoryTracker();
      const blob = await testBlob();
      const metrics = createMetrics('origin', { defaultMetrics: false });
      const origin = await seedingOrigin(tracker, modes[mode](certs.origin), blob, metrics);
      // The rogue trusts the cluster CA, so only the origin's check of its certificate stops it.
      const membership: MembershipConfig =
        mode === 'tls'
          ? { tls: { ...certs.rogue, caFile: cluster.caFile } }
          : { clusterTokenFile: wrongTokenFile };
      const rogue = await startNode({ name: 'rogue', tracker, origin: false, membership });
      const stop = new AbortController();
      const download = rogue.scheduler
        .download(blob.metainfo, {
          adopter: { adopt: () => Promise.reject(new Error('a rogue must never complete')) },
          signal: stop.signal,
        })
        .catch((error: unknown) => error);
      // Two announce rounds, each dialing the origin again (the second after the dial backoff).
      await until(async () => refusedCount(await metrics.registry.metrics(), mode) >= 2, 'two refusals');
      const got = rogue.scheduler.status(blob.metainfo.digest);
      expect(got).toMatchObject({ piecesDone: 0, bytesFromPeers: 0, bytesFromOrigins: 0, peersConnected: 0 });
      expect(origin.scheduler.status(blob.metainfo.digest)).toMatchObject({
        bytesUploaded: 0,
        peersConnected: 0,
      });
      stop.abort();
      await download;
      // Its partial download holds no verified piece.
      const partial = await rogue.pieceStore.open(blob.metainfo);
      expect([...partial.bitfield().present()]).toEqual([]);
      await partial.close();
    },
    30_000,
  );
});

function refusedCount(text: string, reason: string): number {
  const match = new RegExp(`kraken_origin_p2p_handshake_refused_total\\{reason="${reason}"\\} (\\d+)`).exec(
    text,
  );
  return Number(match?.[1] ?? 0);
}
