import type { Clock } from '@kraken/foundation';
import { afterEach, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Digest } from '@kraken/oci-content';
import { createMetrics } from '@kraken/service-kit';
import type { SeedingOrigin } from './origin-seeds.js';
import { createPeerPolicy } from './peer-policy.js';
import { createPeerStore } from './peer-store.js';
import { createTrackerRoutes } from './routes.js';

const blob = `sha256:${'a'.repeat(64)}`;
const otherBlob = `sha256:${'b'.repeat(64)}`;
const agentA = '1'.repeat(40);
const agentB = '2'.repeat(40);
const origin: SeedingOrigin = { peerId: 'f'.repeat(40), host: '10.0.0.9', port: 15001 };
const asPeer = { ...origin, complete: true, origin: true };
const WAIT_MS = 2_000;
const RETRY_MS = 5_000;
const TIMEOUT_MS = 60_000;

/** Timers that fire only when the test advances them; `now` is the tracker's clock too. */
function manualTimers() {
  let now = 0;
  let nextId = 0;
  const due = new Map<number, { at: number; callback: () => void }>();
  const timers: Clock & { advance(ms: number): void; pending(): number } = {
    now: () => now,
    setTimeout(callback, ms) {
      due.set(++nextId, { at: now + ms, callback });
      return nextId;
    },
    clearTimeout: (handle) => void due.delete(handle as number),
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const next = [...due].filter(([, t]) => t.at <= until).sort(([, a], [, b]) => a.at - b.at)[0];
        if (next === undefined) break;
        due.delete(next[0]);
        now = next[1].at;
        next[1].callback();
      }
      now = until;
    },
    pending: () => due.size,
  };
  return timers;
}

/** A request to the origins that the test answers. */
interface Asked {
  readonly digest: Digest;
  readonly signal: AbortSignal;
  readonly answer: (origins: readonly SeedingOrigin[]) => void;
  readonly fail: (err: Error) => void;
}

let app: FastifyInstance | undefined;
afterEach(async () => app?.close());

function setup() {
  const timers = manualTimers();
  const asked: Asked[] = [];
  const metrics = createMetrics('tracker', { defaultMetrics: false });
  app = Fastify();
  app.register(
    createTrackerRoutes({
      store: createPeerStore({ ttlMs: 30_000 }),
      policy: createPeerPolicy(),
      metainfo: { getMetainfo: async () => undefined },
      metrics,
      peersPerAnnounce: 50,
      announceIntervalSeconds: 3,
      originSeeds: {
        request: (digest, signal) =>
          new Promise((answer, fail) => asked.push({ digest, signal, answer, fail })),
        waitMs: WAIT_MS,
        retryMs: RETRY_MS,
        timeoutMs: TIMEOUT_MS,
        timers,
      },
    }),
  );
  const server = app;
  const announce = (peerId: string, extra: Record<string, unknown> = {}) =>
    server.inject({
      method: 'POST',
      url: '/v1/announce',
      payload: {
        peerId,
        // One host per peer: the policy never hands a peer its own address.
        address: { host: `10.0.0.${peerId.slice(0, 1)}`, port: 16001 },
        blob,
        complete: false,
        ...extra,
      },
    });
  const seedRequests = async () =>
    (await metrics.registry.metrics())
      .split('\n')
      .filter((line) => line.startsWith('kraken_tracker_origin_seed_requests_total{'));
  return { timers, asked, announce, seedRequests };
}

/** Lets fastify's handler run up to where it waits (on the origins or a timer). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

function only(asked: Asked[]): Asked {
  expect(asked).toHaveLength(1);
  const [first] = asked;
  if (first === undefined) throw new Error('no request');
  return first;
}

describe('tracker routes with originSeeds', () => {
  it('asks the origins on the first announce of a blob and hands out the origin that answered', async () => {
    const { asked, announce, seedRequests, timers } = setup();
    const first = announce(agentA);
    await settle();
    const request = only(asked);
    expect(request.digest.value).toBe(blob);
    request.answer([origin]);
    const answer = await first;
    expect(answer.statusCode).toBe(200);
    expect(answer.json().peers).toEqual([asPeer]);
    // The swarm has an origin now: nobody is asked again.
    const second = await announce(agentB);
    expect(second.json().peers).toEqual(expect.arrayContaining([asPeer]));
    expect(asked).toHaveLength(1);
    expect(await seedRequests()).toEqual(['kraken_tracker_origin_seed_requests_total{result="ok"} 1']);
    // Neither the wait nor the request timeout is left behind.
    expect(timers.pending()).toBe(0);
  });

  it('shares one request between concurrent announces', async () => {
    const { asked, announce } = setup();
    const pending = [announce(agentA), announce(agentB)];
    await settle();
    only(asked).answer([origin]);
    const answers = await Promise.all(pending);
    for (const answer of answers) expect(answer.json().peers).toEqual(expect.arrayContaining([asPeer]));
    expect(asked).toHaveLength(1);
  });

  it('asks once per cluster and blob', async () => {
    const { asked, announce } = setup();
    const pending = [
      announce(agentA, { clusterId: 'east' }),
      announce(agentB, { clusterId: 'west' }),
      announce(agentB, { clusterId: 'west', blob: otherBlob }),
    ];
    await settle();
    expect(asked.map((a) => a.digest.value).sort()).toEqual([blob, blob, otherBlob]);
    for (const request of asked) request.answer([]);
    await Promise.all(pending);
  });

  it('does not ask again within retryMs of a failure, and does after', async () => {
    const { asked, announce, seedRequests, timers } = setup();
    const first = announce(agentA);
    await settle();
    only(asked).fail(new Error('origin unreachable'));
    expect((await first).json().peers).toEqual([]);
    timers.advance(RETRY_MS - 1);
    const soon = await announce(agentB);
    expect(soon.json().peers).toEqual([expect.objectContaining({ peerId: agentA })]);
    expect(asked).toHaveLength(1);
    timers.advance(1);
    const later = announce(agentB);
    await settle();
    expect(asked).toHaveLength(2);
    asked[1]?.answer([origin]);
    expect((await later).json().peers).toEqual(expect.arrayContaining([asPeer]));
    expect(await seedRequests()).toEqual([
      'kraken_tracker_origin_seed_requests_total{result="error"} 1',
      'kraken_tracker_origin_seed_requests_total{result="ok"} 1',
    ]);
  });

  it('treats an empty answer like a failure', async () => {
    const { asked, announce, seedRequests, timers } = setup();
    const first = announce(agentA);
    await settle();
    only(asked).answer([]);
    expect((await first).json().peers).toEqual([]);
    await announce(agentB);
    expect(asked).toHaveLength(1);
    timers.advance(RETRY_MS);
    const later = announce(agentB);
    await settle();
    expect(asked).toHaveLength(2);
    asked[1]?.answer([]);
    await later;
    expect(await seedRequests()).toEqual(['kraken_tracker_origin_seed_requests_total{result="empty"} 2']);
  });

  it('answers after waitMs without a slow origin, which a later announce then meets', async () => {
    const { asked, announce, timers } = setup();
    let answered = false;
    const first = announce(agentA).then((response) => {
      answered = true;
      return response;
    });
    await settle();
    const request = only(asked);
    timers.advance(WAIT_MS - 1);
    await settle();
    expect(answered).toBe(false);
    timers.advance(1);
    expect((await first).json().peers).toEqual([]);
    // Still asked, not failed: an announce meanwhile waits on the same request.
    const meanwhile = announce(agentB);
    await settle();
    expect(asked).toHaveLength(1);
    request.answer([origin]);
    expect((await meanwhile).json().peers).toEqual(expect.arrayContaining([asPeer]));
    const later = await announce(agentA);
    expect(later.json().peers).toEqual(expect.arrayContaining([asPeer]));
    expect(asked).toHaveLength(1);
  });

  it('gives up on a request after timeoutMs even when it ignores its signal', async () => {
    const { asked, announce, seedRequests, timers } = setup();
    const first = announce(agentA);
    await settle();
    const request = only(asked);
    timers.advance(WAIT_MS);
    await first;
    expect(request.signal.aborted).toBe(false);
    timers.advance(TIMEOUT_MS - WAIT_MS);
    await settle();
    expect(request.signal.aborted).toBe(true);
    expect(await seedRequests()).toEqual(['kraken_tracker_origin_seed_requests_total{result="error"} 1']);
    // A late answer is dropped: the blob is in its retry pause.
    request.answer([origin]);
    await settle();
    expect((await announce(agentB)).json().peers).toEqual([expect.objectContaining({ peerId: agentA })]);
    expect(timers.pending()).toBe(0);
  });

  it('never asks on behalf of an origin', async () => {
    const { asked, announce, seedRequests } = setup();
    const response = await announce(origin.peerId, { complete: true, origin: true });
    expect(response.json().peers).toEqual([]);
    expect(asked).toEqual([]);
    expect(await seedRequests()).toEqual([]);
  });
});
