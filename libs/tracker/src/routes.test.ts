import { afterEach, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Digest } from '@kraken/oci-content';
import { createMetrics } from '@kraken/service-kit';
import type { Metainfo } from '@kraken/p2p-core';
import {
  ANNOUNCE_BATCH_BINARY_TYPE,
  ANNOUNCE_BINARY_TYPE,
  MAX_BATCH_BLOBS,
  decodeAnnounceAnswer,
  decodeAnnounceBatchAnswer,
  metainfoId,
  serializeMetainfo,
} from '@kraken/p2p-core';
import { createPeerPolicy } from './peer-policy.js';
import { createPeerStore } from './peer-store.js';
import { createTrackerRoutes, type TrackerRoutesOptions } from './routes.js';
import type { MetainfoSource } from './metainfo-cache.js';

const blob = `sha256:${'a'.repeat(64)}`;
const peerA = 'a'.repeat(40);
const peerB = 'b'.repeat(40);
const metainfo: Metainfo = { digest: blob, size: 0, pieceLength: 256 * 1024, pieceHashes: [] };

let app: FastifyInstance | undefined;
afterEach(async () => app?.close());

function setup(
  source: MetainfoSource = { getMetainfo: async () => undefined },
  extra: Pick<TrackerRoutesOptions, 'originSeeds'> = {},
) {
  const metrics = createMetrics('tracker', { defaultMetrics: false });
  app = Fastify();
  app.register(
    createTrackerRoutes({
      store: createPeerStore({ ttlMs: 30_000 }),
      policy: createPeerPolicy(),
      metainfo: source,
      metrics,
      peersPerAnnounce: 50,
      announceIntervalSeconds: 3,
      ...extra,
    }),
  );
  return { app, metrics };
}

const announce = (server: FastifyInstance, body: unknown) =>
  server.inject({ method: 'POST', url: '/v1/announce', payload: body as object });

function announceOf(peerId: string, extra: Record<string, unknown> = {}) {
  return { peerId, address: { host: '10.0.0.1', port: 16001 }, blob, complete: false, ...extra };
}

describe('POST /v1/announce', () => {
  it('records peers and hands each the others', async () => {
    const { app, metrics } = setup();
    const first = await announce(app, announceOf(peerA, { complete: true, origin: true }));
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ peers: [], intervalSeconds: 3 });
    const second = await announce(app, announceOf(peerB, { address: { host: '::1', port: 17001 } }));
    expect(second.json()).toEqual({
      peers: [{ peerId: peerA, host: '10.0.0.1', port: 16001, complete: true, origin: true }],
      intervalSeconds: 3,
    });
    const again = await announce(app, announceOf(peerA, { complete: true }));
    expect(again.json().peers).toEqual([
      { peerId: peerB, host: '::1', port: 17001, complete: false, origin: false },
    ]);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/kraken_tracker_announces_total\{result="ok"\} 3/);
    expect(text).toMatch(/kraken_tracker_swarms 1/);
    expect(text).toMatch(/kraken_tracker_swarm_peers 2/);
  });

  it('answers in binary when the Accept header asks for it, with the peers JSON would name', async () => {
    const { app } = setup();
    const peerC = 'c'.repeat(40);
    await announce(app, announceOf(peerA, { complete: true, origin: true }));
    await announce(app, announceOf(peerB, { address: { host: 'node-b.example', port: 17001 } }));
    const ask = (accept: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/announce',
        payload: announceOf(peerC, { address: { host: '10.0.0.3', port: 16001 } }),
        headers: { accept },
      });
    const binary = await ask(`${ANNOUNCE_BINARY_TYPE}, application/json;q=0.5`);
    expect(binary.statusCode).toBe(200);
    expect(binary.headers['content-type']).toBe(ANNOUNCE_BINARY_TYPE);
    const decoded = decodeAnnounceAnswer(binary.rawPayload);
    const expected = [
      { peerId: peerA, host: '10.0.0.1', port: 16001, complete: true, origin: true },
      { peerId: peerB, host: 'node-b.example', port: 17001, complete: false, origin: false },
    ];
    // Both peers fit in the limit: the policy hands out the origin first, then the rest.
    expect(decoded).toEqual({ ok: true, value: { peers: expected, intervalSeconds: 3 } });
    const json = await ask('application/json');
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(json.json()).toEqual({ peers: expected, intervalSeconds: 3 });
    // Refused with q=0, and an empty swarm's answer in binary holds no peer.
    expect((await ask(`${ANNOUNCE_BINARY_TYPE};q=0`)).headers['content-type']).toMatch(/^application\/json/);
    const alone = await app.inject({
      method: 'POST',
      url: '/v1/announce',
      payload: announceOf(peerA, { blob: `sha256:${'e'.repeat(64)}` }),
      headers: { accept: ANNOUNCE_BINARY_TYPE },
    });
    expect(decodeAnnounceAnswer(alone.rawPayload)).toEqual({
      ok: true,
      value: { peers: [], intervalSeconds: 3 },
    });
  });

  it('keeps clusters apart', async () => {
    const { app } = setup();
    await announce(app, announceOf(peerA, { clusterId: 'east' }));
    const other = await announce(app, announceOf(peerB, { clusterId: 'west' }));
    expect(other.json().peers).toEqual([]);
  });

  it('uses the source address for an unspecified host', async () => {
    const { app } = setup();
    await announce(app, announceOf(peerA, { address: { host: '0.0.0.0', port: 16001 } }));
    const answer = await announce(app, announceOf(peerB));
    expect(answer.json().peers[0].host).toBe('127.0.0.1');
  });

  it.each([
    ['a malformed peer id', announceOf('XYZ'), /peerId must be 40 lowercase hex characters/],
    ['a malformed digest', announceOf(peerA, { blob: 'sha256:nothex' }), /blob must be a sha256 or sha512/],
    ['port 0', announceOf(peerA, { address: { host: '10.0.0.1', port: 0 } }), /address\.port/],
    ['port 70000', announceOf(peerA, { address: { host: '10.0.0.1', port: 70000 } }), /address\.port/],
    ['a bracketed IPv6 host', announceOf(peerA, { address: { host: '[::1]', port: 1 } }), /address\.host/],
    ['an unknown key', announceOf(peerA, { extra: 1 }), /unrecognized key/i],
    ['a missing field', { peerId: peerA }, /address/],
  ])('refuses %s with 400 and a clear error', async (_what, body, message) => {
    const { app, metrics } = setup();
    const response = await announce(app, body);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('KRAKEN_INVALID_REQUEST');
    expect(response.json().error.message).toMatch(message);
    expect(await metrics.registry.metrics()).toMatch(/announces_total\{result="invalid"\} 1/);
  });

  it('refuses a body that is not JSON', async () => {
    const { app } = setup();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/announce',
      headers: { 'content-type': 'application/json' },
      payload: '{nope',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.message).toMatch(/JSON/i);
  });
});

describe('POST /v1/announce/batch', () => {
  const blobB = `sha256:${'b'.repeat(64)}`;
  const blobC = `sha256:${'c'.repeat(64)}`;
  const peerC = 'c'.repeat(40);
  const batch = (server: FastifyInstance, body: unknown, accept?: string) =>
    server.inject({
      method: 'POST',
      url: '/v1/announce/batch',
      payload: body as object,
      ...(accept === undefined ? {} : { headers: { accept } }),
    });
  const batchOf = (peerId: string, blobs: unknown[], extra: Record<string, unknown> = {}) => ({
    peerId,
    address: { host: '10.0.0.1', port: 16001 },
    blobs,
    ...extra,
  });

  it('records every blob and answers each as a single announce would, in order', async () => {
    const { app, metrics } = setup();
    // Two single announces and one batch build the same swarms as three batches would.
    await announce(app, announceOf(peerA, { complete: true, origin: true }));
    await announce(app, announceOf(peerA, { blob: blobB, complete: true, origin: true }));
    await batch(app, batchOf(peerB, [{ blob, complete: false }], { address: { host: '::1', port: 17001 } }));
    const request = batchOf(peerC, [
      { blob: blobC, complete: false },
      { blob, complete: false },
      { blob: blobB, complete: true, want: 0 },
    ]);
    request.address = { host: '10.0.0.3', port: 16001 };
    const json = await batch(app, request);
    expect(json.statusCode).toBe(200);
    const originA = { peerId: peerA, host: '10.0.0.1', port: 16001, complete: true, origin: true };
    const peerOfB = { peerId: peerB, host: '::1', port: 17001, complete: false, origin: false };
    expect(json.json()).toEqual({
      answers: [{ peers: [] }, { peers: [originA, peerOfB] }, { peers: [] }],
      intervalSeconds: 3,
    });
    // The seeder that wanted no peers is still recorded: the next peer is handed it.
    const next = await announce(
      app,
      announceOf(peerB, { blob: blobB, address: { host: '::1', port: 17001 } }),
    );
    expect(
      next
        .json()
        .peers.map((p: { peerId: string }) => p.peerId)
        .sort(),
    ).toEqual([peerA, peerC]);

    const binary = await batch(app, request, `${ANNOUNCE_BATCH_BINARY_TYPE}, application/json;q=0.5`);
    expect(binary.headers['content-type']).toBe(ANNOUNCE_BATCH_BINARY_TYPE);
    expect(decodeAnnounceBatchAnswer(binary.rawPayload)).toEqual({ ok: true, value: json.json() });
    // The single answer's type does not ask for the batch answer.
    expect((await batch(app, request, ANNOUNCE_BINARY_TYPE)).headers['content-type']).toMatch(
      /^application\/json/,
    );
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/kraken_tracker_announces_total\{result="ok"\} 13/);
  });

  it('caps each handout at its want and at the tracker limit, and never names the requester', async () => {
    const { app } = setup();
    for (let i = 0; i < 5; i++) {
      const peerId = String(i).repeat(40);
      await batch(
        app,
        batchOf(peerId, [{ blob, complete: true }], { address: { host: `10.0.1.${i}`, port: 1 } }),
      );
    }
    const answer = await batch(
      app,
      batchOf('0'.repeat(40), [
        { blob, complete: false, want: 2 },
        { blob: blobB, complete: false, want: 1000 },
      ]),
    );
    const [capped, empty] = answer.json().answers;
    expect(capped.peers).toHaveLength(2);
    expect(capped.peers.map((p: { peerId: string }) => p.peerId)).not.toContain('0'.repeat(40));
    expect(empty.peers).toEqual([]);
  });

  it.each([
    ['no blobs', batchOf(peerA, []), /blobs/],
    [
      'a blob named twice',
      batchOf(peerA, [
        { blob, complete: false },
        { blob, complete: true },
      ]),
      /blobs\.1\.blob is a duplicate/,
    ],
    ['a malformed digest', batchOf(peerA, [{ blob: 'sha256:x', complete: false }]), /blobs\.0\.blob/],
    ['a want over 1000', batchOf(peerA, [{ blob, complete: false, want: 1001 }]), /blobs\.0\.want/],
    ['a negative want', batchOf(peerA, [{ blob, complete: false, want: -1 }]), /blobs\.0\.want/],
    ['an unknown entry key', batchOf(peerA, [{ blob, complete: false, x: 1 }]), /unrecognized key/i],
    ['a per-blob peer id', batchOf(peerA, [{ blob, complete: false }], { blob }), /unrecognized key/i],
    ['a malformed peer id', batchOf('XYZ', [{ blob, complete: false }]), /peerId/],
    [
      'more than 1000 blobs',
      batchOf(
        peerA,
        Array.from({ length: MAX_BATCH_BLOBS + 1 }, (_, i) => ({
          blob: `sha256:${i.toString(16).padStart(64, '0')}`,
          complete: false,
        })),
      ),
      /blobs/,
    ],
  ])('refuses %s with 400 and records nothing', async (_what, body, message) => {
    const { app, metrics } = setup();
    const response = await batch(app, body);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('KRAKEN_INVALID_REQUEST');
    expect(response.json().error.message).toMatch(message);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/announces_total\{result="invalid"\} 1/);
    expect(text).toMatch(/kraken_tracker_swarms 0/);
  });

  it('takes 1000 entries of the longest kind (sha512 digests, a want each)', async () => {
    const { app } = setup();
    const blobs = Array.from({ length: MAX_BATCH_BLOBS }, (_, i) => ({
      blob: `sha512:${i.toString(16).padStart(128, '0')}`,
      complete: false,
      want: 1000,
    }));
    const response = await batch(app, batchOf(peerA, blobs));
    expect(response.statusCode).toBe(200);
    expect(response.json().answers).toHaveLength(MAX_BATCH_BLOBS);
  });

  it('refuses a body far larger than 1000 entries with 413', async () => {
    const { app } = setup();
    const response = await batch(app, batchOf(peerA, [{ blob, complete: false, pad: 'x'.repeat(300_000) }]));
    expect(response.statusCode).toBe(413);
  });

  it('has the origins asked to seed the blobs whose swarm has none', async () => {
    const asked: string[] = [];
    const { app } = setup(undefined, {
      originSeeds: {
        request: async (digest) => {
          asked.push(digest.value);
          return [{ host: '10.9.9.9', port: 15001, peerId: 'f'.repeat(40) }];
        },
      },
    });
    const blobs = [
      { blob, complete: false },
      { blob: blobB, complete: false },
    ];
    const answer = await batch(app, batchOf(peerA, blobs));
    expect(asked.sort()).toEqual([blob, blobB]);
    // The swarms have their origin now: a second batch asks nobody.
    await batch(app, batchOf(peerB, blobs));
    expect(asked).toHaveLength(2);
    for (const { peers } of answer.json().answers) {
      expect(peers).toEqual([
        { peerId: 'f'.repeat(40), host: '10.9.9.9', port: 15001, complete: true, origin: true },
      ]);
    }
  });
});

describe('GET /v1/blobs/:digest/metainfo', () => {
  it('serves canonical JSON from the cache after one origin fetch, sharing concurrent fetches', async () => {
    let fetches = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { app, metrics } = setup({
      async getMetainfo(digest: Digest) {
        fetches += 1;
        await gate;
        return digest.value === blob ? metainfo : undefined;
      },
    });
    const url = `/v1/blobs/${blob}/metainfo`;
    const pending = [app.inject({ url }), app.inject({ url })];
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const answers = await Promise.all(pending);
    const third = await app.inject({ url });
    for (const answer of [...answers, third]) {
      expect(answer.statusCode).toBe(200);
      expect(answer.body).toBe(serializeMetainfo(metainfo));
      expect(answer.headers.etag).toBe(`"${metainfoId(metainfo)}"`);
    }
    expect(fetches).toBe(1);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/metainfo_cache_lookups_total\{result="miss"\} 1/);
    expect(text).toMatch(/metainfo_cache_lookups_total\{result="inflight"\} 1/);
    expect(text).toMatch(/metainfo_cache_lookups_total\{result="hit"\} 1/);
  });

  it('answers 404 for a blob no origin holds, and asks again next time', async () => {
    let fetches = 0;
    const { app } = setup({
      getMetainfo: async () => {
        fetches += 1;
        return undefined;
      },
    });
    const url = `/v1/blobs/sha256:${'c'.repeat(64)}/metainfo`;
    const response = await app.inject({ url });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('KRAKEN_METAINFO_NOT_FOUND');
    await app.inject({ url });
    expect(fetches).toBe(2);
  });

  it('refuses a malformed digest with 400 before asking an origin', async () => {
    let fetches = 0;
    const { app } = setup({
      getMetainfo: async () => {
        fetches += 1;
        return undefined;
      },
    });
    const response = await app.inject({ url: '/v1/blobs/sha256:..%2F..%2Fetc/metainfo' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('KRAKEN_INVALID_DIGEST');
    expect(fetches).toBe(0);
  });

  it('passes an origin failure on with its status', async () => {
    const { app } = setup({
      getMetainfo: async () => {
        throw Object.assign(new Error('boom'), {});
      },
    });
    const response = await app.inject({ url: `/v1/blobs/${blob}/metainfo` });
    expect(response.statusCode).toBe(500);
    expect(response.json().error).toEqual({ code: 'KRAKEN_INTERNAL', message: 'internal error' });
  });
});
