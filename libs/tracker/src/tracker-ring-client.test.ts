import { afterEach, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { createLiveRing, createRingConfigSchema, type LiveRing } from '@kraken/hashring';
import { createMetrics } from '@kraken/service-kit';
import { createAnnounceClient, type AnnounceClient } from '@kraken/p2p-core';
import type { Metainfo } from '@kraken/p2p-core';
import { createPeerPolicy } from './peer-policy.js';
import { createPeerStore, type PeerStore } from './peer-store.js';
import { createTrackerRingClient, type TrackerRingClient } from '@kraken/p2p-core';
import { RemoteApiError } from '@kraken/service-kit';
import { createTrackerRoutes } from './routes.js';

// Owners come from the trackers' random ports: with 32 digests, both of two trackers own some
// but once in 2^31 runs (with 8, once in 128).
const blobs = Array.from({ length: 32 }, (_, i) => `sha256:${i.toString(16).padStart(64, '0')}`);
const metainfoOf = (digest: string): Metainfo => ({
  digest,
  size: 0,
  pieceLength: 256 * 1024,
  pieceHashes: [],
});

interface Tracker {
  readonly server: FastifyInstance;
  readonly store: PeerStore;
  readonly url: string;
  metainfoLookups: number;
}

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function startTracker(): Promise<Tracker> {
  const server = Fastify();
  const store = createPeerStore({ ttlMs: 30_000 });
  const tracker: Tracker = { server, store, url: '', metainfoLookups: 0 };
  server.register(
    createTrackerRoutes({
      store,
      policy: createPeerPolicy(),
      metainfo: {
        getMetainfo: async (d) => {
          tracker.metainfoLookups++;
          return blobs.includes(d.value) ? metainfoOf(d.value) : undefined;
        },
      },
      metrics: createMetrics('tracker', { defaultMetrics: false }),
      peersPerAnnounce: 50,
      announceIntervalSeconds: 3,
    }),
  );
  closers.push(() => server.close());
  return Object.assign(tracker, { url: await server.listen({ host: '127.0.0.1', port: 0 }) });
}

function ringOf(trackers: readonly Tracker[]): LiveRing {
  const config = createRingConfigSchema({ replicas: 1 }).parse({
    nodes: trackers.map((t) => t.url),
    health: { unhealthyThreshold: 1, active: { enabled: false } },
  });
  const ring = createLiveRing(config);
  closers.push(() => ring.close());
  return ring;
}

function clientOf(ring: LiveRing, extra: { clientFor?: (url: string) => AnnounceClient } = {}) {
  const client: TrackerRingClient = createTrackerRingClient({ ring, timeoutMs: 5_000, ...extra });
  closers.push(() => client.close());
  return client;
}

const announceOf = (peerId: string, blob: string) => ({
  peerId,
  address: { host: peerId.startsWith('a') ? '10.0.0.1' : '10.0.0.2', port: 16001 },
  blob,
  complete: false,
});

const peersOn = (t: Tracker, blob: string): number => t.store.peers({ blob }).length;

describe('tracker ring client', () => {
  it("sends each blob's announces to its owner, so all peers of a swarm meet there", async () => {
    const trackers = [await startTracker(), await startTracker()];
    const ring = ringOf(trackers);
    const a = clientOf(ring);
    const b = clientOf(ringOf(trackers));
    const owners = new Set<string>();
    for (const blob of blobs) {
      const owner = ring.owners(blob)[0]?.url;
      owners.add(owner ?? '');
      expect(a.ownerOf(blob)).toBe(owner);
      await a.announce(announceOf('a'.repeat(40), blob));
      const answer = await b.announce(announceOf('b'.repeat(40), blob));
      expect(answer.peers.map((p) => p.peerId)).toEqual(['a'.repeat(40)]);
      for (const t of trackers) expect(peersOn(t, blob)).toBe(t.url === owner ? 2 : 0);
    }
    expect(owners.size).toBe(2);
  });

  it('fails over to the next tracker when the owner is down, and the swarm re-forms there', async () => {
    const trackers = [await startTracker(), await startTracker()];
    const blob = blobs[0] as string;
    const ring = ringOf(trackers);
    const ownerUrl = ring.owners(blob)[0]?.url;
    const owner = trackers.find((t) => t.url === ownerUrl) as Tracker;
    const next = trackers.find((t) => t !== owner) as Tracker;
    const a = clientOf(ring);
    const b = clientOf(ringOf(trackers));
    await a.announce(announceOf('a'.repeat(40), blob));
    await owner.server.close();

    await a.announce(announceOf('a'.repeat(40), blob));
    const answer = await b.announce(announceOf('b'.repeat(40), blob));
    expect(answer.peers.map((p) => p.peerId)).toEqual(['a'.repeat(40)]);
    expect(peersOn(next, blob)).toBe(2);
    // The failure marked the owner unhealthy: the next request goes straight on.
    expect(ring.isHealthy(ring.owners(blob)[0]?.id ?? '')).toBe(false);
    expect(a.ownerOf(blob)).toBe(next.url);
  });

  it('asks the owner for metainfo, the next tracker when it is down, and passes a miss on', async () => {
    const trackers = [await startTracker(), await startTracker()];
    const blob = blobs[1] as string;
    const ring = ringOf(trackers);
    const owner = trackers.find((t) => t.url === ring.owners(blob)[0]?.url) as Tracker;
    const next = trackers.find((t) => t !== owner) as Tracker;
    const client = clientOf(ring);
    expect(await client.getMetainfo(blob)).toEqual(metainfoOf(blob));
    expect([owner.metainfoLookups, next.metainfoLookups]).toEqual([1, 0]);
    // A miss is an answer, not a failure: one tracker is asked, not both.
    expect(await client.getMetainfo(`sha256:${'f'.repeat(64)}`)).toBeUndefined();
    expect(owner.metainfoLookups + next.metainfoLookups).toBe(2);
    next.metainfoLookups = 0;
    await owner.server.close();
    expect(await client.getMetainfo(blob)).toEqual(metainfoOf(blob));
    expect(next.metainfoLookups).toBe(1);
  });

  it('does not retry a request the tracker refused, and fails when every tracker is down', async () => {
    const trackers = [await startTracker(), await startTracker()];
    const calls: string[] = [];
    const refusing: AnnounceClient = {
      announce: async () => {
        throw new RemoteApiError('KRAKEN_INVALID_REQUEST', 'bad', { statusCode: 400 });
      },
      announceBatch: async () => {
        throw new RemoteApiError('KRAKEN_INVALID_REQUEST', 'bad', { statusCode: 400 });
      },
      getMetainfo: async () => undefined,
      close: async () => {},
    };
    const client = clientOf(ringOf(trackers), {
      clientFor: (url) => {
        calls.push(url);
        return refusing;
      },
    });
    await expect(client.announce(announceOf('a'.repeat(40), blobs[2] as string))).rejects.toMatchObject({
      code: 'KRAKEN_INVALID_REQUEST',
    });
    expect(calls).toHaveLength(1);

    const down = clientOf(ringOf(trackers));
    for (const t of trackers) await t.server.close();
    await expect(down.announce(announceOf('a'.repeat(40), blobs[2] as string))).rejects.toMatchObject({
      code: 'KRAKEN_FAILOVER_EXHAUSTED',
    });
  });

  it('announces many blobs in one batch per owning tracker, each answered as alone', async () => {
    const trackers = [await startTracker(), await startTracker()];
    const batchCalls: string[] = [];
    const singles: string[] = [];
    const counting = (url: string): AnnounceClient => {
      const real = createAnnounceClient({ url, timeoutMs: 5_000 });
      return {
        announce: (r, s) => (singles.push(r.blob), real.announce(r, s)),
        announceBatch: (r, s) => (batchCalls.push(url), real.announceBatch(r, s)),
        getMetainfo: (d, s) => real.getMetainfo(d, s),
        close: () => real.close(),
      };
    };
    const ring = ringOf(trackers);
    const a = clientOf(ring, { clientFor: counting });
    const b = clientOf(ringOf(trackers), { clientFor: counting });
    await a.announceMany(blobs.map((blob) => announceOf('a'.repeat(40), blob)));
    // One request per tracker, none alone.
    expect(batchCalls.sort()).toEqual(trackers.map((t) => t.url).sort());
    expect(singles).toEqual([]);
    const outcomes = await b.announceMany(blobs.map((blob) => announceOf('b'.repeat(40), blob)));
    for (const outcome of outcomes) {
      expect(outcome).toEqual({
        ok: true,
        value: {
          peers: [{ peerId: 'a'.repeat(40), host: '10.0.0.1', port: 16001, complete: false, origin: false }],
          intervalSeconds: 3,
        },
      });
    }
    for (const blob of blobs) {
      const owner = ring.owners(blob)[0]?.url;
      for (const t of trackers) expect(peersOn(t, blob)).toBe(t.url === owner ? 2 : 0);
    }
  });

  it('announces a complete blob wanting no peers, and a blob named twice apart', async () => {
    const [tracker] = [await startTracker()];
    const client = clientOf(ringOf([tracker as Tracker]));
    const blob = blobs[0] as string;
    await client.announce(announceOf('a'.repeat(40), blob));
    const [seeding, downloading, again] = await client.announceMany([
      { ...announceOf('b'.repeat(40), blob), complete: true },
      announceOf('b'.repeat(40), blobs[1] as string),
      announceOf('b'.repeat(40), blob),
    ]);
    expect(seeding).toEqual({ ok: true, value: { peers: [], intervalSeconds: 3 } });
    expect(downloading).toMatchObject({ ok: true });
    expect(again).toMatchObject({ ok: true, value: { peers: [{ peerId: 'a'.repeat(40) }] } });
  });

  it('sends single announces to a tracker without the batch route, for a while', async () => {
    const [tracker] = [await startTracker()];
    let now = 0;
    const singles: string[] = [];
    let batchAsks = 0;
    const old = (url: string): AnnounceClient => {
      const real = createAnnounceClient({ url, timeoutMs: 5_000 });
      return {
        announce: (r, s) => (singles.push(r.blob), real.announce(r, s)),
        // What the older tracker answers: its not-found error.
        announceBatch: async () => {
          batchAsks += 1;
          throw new RemoteApiError('KRAKEN_NOT_FOUND', 'Route POST:/v1/announce/batch not found', {
            statusCode: 404,
          });
        },
        getMetainfo: (d, s) => real.getMetainfo(d, s),
        close: () => real.close(),
      };
    };
    const ring = ringOf([tracker as Tracker]);
    const client = createTrackerRingClient({ ring, clientFor: old, now: () => now, noBatchMs: 60_000 });
    closers.push(() => client.close());
    const requests = blobs.slice(0, 3).map((blob) => announceOf('a'.repeat(40), blob));
    expect((await client.announceMany(requests)).every((o) => o.ok)).toBe(true);
    expect([batchAsks, singles.length]).toEqual([1, 3]);
    // Within noBatchMs the batch route is not tried again; after it, it is.
    await client.announceMany(requests);
    expect([batchAsks, singles.length]).toEqual([1, 6]);
    now = 60_000;
    await client.announceMany(requests);
    expect([batchAsks, singles.length]).toEqual([2, 9]);
    // The tracker stays healthy: a 404 is not its failure.
    expect(ring.isHealthy(ring.members()[0]?.id ?? '')).toBe(true);
    expect(peersOn(tracker as Tracker, blobs[0] as string)).toBe(1);
  });

  it('announces the blobs of a batch whose tracker is down one by one, down each order', async () => {
    const trackers = [await startTracker(), await startTracker()];
    const ring = ringOf(trackers);
    const down = trackers[0] as Tracker;
    const up = trackers[1] as Tracker;
    const theirs = blobs.filter((blob) => ring.owners(blob)[0]?.url === down.url);
    expect(theirs.length).toBeGreaterThan(1);
    await down.server.close();
    const client = clientOf(ring);
    const outcomes = await client.announceMany(theirs.map((blob) => announceOf('a'.repeat(40), blob)));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    for (const blob of theirs) expect(peersOn(up, blob)).toBe(1);
    expect(ring.isHealthy(ring.owners(theirs[0] as string)[0]?.id ?? '')).toBe(false);
  });

  it('fails the blobs of a batch the tracker refused, and only those', async () => {
    const trackers = [await startTracker(), await startTracker()];
    const ring = ringOf(trackers);
    const refusedUrl = trackers[0]?.url;
    const client = clientOf(ring, {
      clientFor: (url) => {
        const real = createAnnounceClient({ url, timeoutMs: 5_000 });
        if (url !== refusedUrl) return real;
        return {
          ...real,
          close: () => real.close(),
          announceBatch: async () => {
            throw new RemoteApiError('KRAKEN_INVALID_REQUEST', 'bad', { statusCode: 400 });
          },
        };
      },
    });
    const outcomes = await client.announceMany(blobs.map((blob) => announceOf('a'.repeat(40), blob)));
    blobs.forEach((blob, i) => {
      const refused = ring.owners(blob)[0]?.url === refusedUrl;
      expect(outcomes[i]).toMatchObject(
        refused ? { ok: false, error: { code: 'KRAKEN_INVALID_REQUEST' } } : { ok: true },
      );
    });
  });
});
