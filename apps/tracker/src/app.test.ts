import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { digestOf } from '@kraken/oci-content';
import { createOriginClient } from '@kraken/origin';
import { startInProcessServices, type InProcessServices } from '@kraken/build-index/testing';
import { createAnnounceClient, generateMetainfo } from '@kraken/p2p-core';
import { parseConfig, silentLogger } from '@kraken/service-kit';
import { createApp, type App } from './app.js';
import { configSchema } from './config.js';

let app: App | undefined;
let services: InProcessServices | undefined;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await app?.close();
  await services?.close();
  app = undefined;
  services = undefined;
});

async function startTracker(originUrl: string, clock?: { now: number }) {
  app = createApp(parseConfig(configSchema, { listen: { port: 0 }, origins: { nodes: [originUrl] } }), {
    logger: silentLogger(),
    ...(clock === undefined ? {} : { clock: () => clock.now }),
  });
  await app.start();
  const client = createAnnounceClient({ url: app.url });
  closers.push(() => client.close());
  return { app, client };
}

const peer = (n: number) => ({
  peerId: n.toString(16).padStart(40, '0'),
  address: { host: `fd00::${n}`, port: 16001 },
  blob: `sha256:${'a'.repeat(64)}`,
  complete: false,
});

describe('tracker app', () => {
  it('serves the operational endpoints, ready while the origin is', async () => {
    services = await startInProcessServices();
    const { app } = await startTracker(services.originUrl);
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
    expect((await fetch(`${app.url}/readiness`)).status).toBe(200);
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    for (const name of ['announces_total', 'swarms', 'swarm_peers', 'metainfo_cache_lookups_total']) {
      expect(metrics).toContain(`kraken_tracker_${name}`);
    }
  });

  it('is not ready while the origin is unreachable', async () => {
    services = await startInProcessServices();
    const originUrl = services.originUrl;
    await services.close();
    services = undefined;
    const { app } = await startTracker(originUrl);
    const readiness = await fetch(`${app.url}/readiness`);
    expect(readiness.status).toBe(503);
    expect(((await readiness.json()) as { checks: { origin: { ok: boolean } } }).checks.origin.ok).toBe(
      false,
    );
  });

  it('hands out peers and forgets them after the peer TTL', async () => {
    services = await startInProcessServices();
    const clock = { now: 0 };
    const { client } = await startTracker(services.originUrl, clock);
    await client.announce(peer(1));
    expect((await client.announce(peer(2))).peers.map((p) => p.host)).toEqual(['fd00::1']);
    clock.now += 29_000;
    await client.announce(peer(2));
    clock.now += 2_000;
    const answer = await client.announce(peer(3));
    expect(answer.peers.map((p) => p.host)).toEqual(['fd00::2']);
    expect(answer.intervalSeconds).toBe(3);
  });

  it('serves metainfo fetched from the origin', async () => {
    services = await startInProcessServices();
    const origin = createOriginClient({ url: services.originUrl });
    closers.push(() => origin.close());
    const bytes = Buffer.alloc(700 * 1024, 7);
    const digest = digestOf(bytes);
    await origin.putBlob(digest, Readable.from([bytes]), { size: bytes.length });
    const { client } = await startTracker(services.originUrl);
    const expected = await generateMetainfo(Readable.from([bytes]), {
      digest: digest.value,
      size: bytes.length,
    });
    expect(await client.getMetainfo(digest)).toEqual(expected);
    expect(await client.getMetainfo(digest)).toEqual(expected);
    expect(await client.getMetainfo(digestOf(Buffer.from('absent')))).toBeUndefined();
    const metrics = await (await fetch(`${app?.url}/metrics`)).text();
    expect(metrics).toMatch(/kraken_tracker_metainfo_cache_lookups_total\{result="hit"\} 1/);
    expect(metrics).toMatch(/kraken_tracker_metainfo_cache_lookups_total\{result="miss"\} 2/);
  });

  it('names an unknown config key and refuses a TTL within the announce interval', () => {
    expect(() => parseConfig(configSchema, { listen: { prot: 1 } })).toThrow(/listen\.prot: unknown key/);
    expect(() =>
      parseConfig(configSchema, { tracker: { announceIntervalSeconds: 10, peerTtlSeconds: 5 } }),
    ).toThrow(/tracker\.peerTtlSeconds/);
    expect(() => parseConfig(configSchema, { tracker: { peersPerAnnounce: 5000 } })).toThrow(
      /tracker\.peersPerAnnounce/,
    );
  });
});
