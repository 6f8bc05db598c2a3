import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '@kraken/foundation/testing';
import { digestOf, MediaType, type Digest } from '@kraken/oci-content';
import { ServiceUnreachableError } from '@kraken/service-kit';
import type { UpstreamRef, UpstreamTag } from '@kraken/origin';
import type { ContentFetch } from '../content-fetch.js';
import { createMirrorStatus } from './mirror-status.js';
import { createMirrorStore } from './mirror-store.js';

const manifestBytes = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: digestOf(Buffer.from('c')).value, size: 1 },
    layers: [],
  }),
);
const manifest = digestOf(manifestBytes);

function setup() {
  const clock = createManualClock(0);
  const calls: string[] = [];
  const fetched: { digest: string; kind: string | undefined; from: UpstreamRef | undefined }[] = [];
  let answer: () => Promise<UpstreamTag | undefined> = async () => ({
    digest: manifest.value,
    stale: false,
    ageSeconds: 0,
  });
  const content: ContentFetch = {
    ensureCached: async (digest, kind, from) => {
      fetched.push({ digest: digest.value, kind, from });
      return digest.value === manifest.value;
    },
    statBlob: async () => undefined,
    readBlob: async () => undefined,
  };
  const status = createMirrorStatus(['docker.io']);
  const store = createMirrorStore({
    registry: 'docker.io',
    content,
    cache: {
      read: async (d: Digest) =>
        Readable.from([d.value === manifest.value ? manifestBytes : Buffer.alloc(0)]),
    },
    origin: {
      resolveUpstreamTag: (registry, repository, tag) => {
        calls.push(`${registry}/${repository}:${tag}`);
        return answer();
      },
    },
    tagTtlMs: 30_000,
    staleIfErrorMs: 60_000,
    clock,
    status,
  });
  return { clock, calls, fetched, store, status, setAnswer: (f: typeof answer) => (answer = f) };
}

describe('mirror store', () => {
  it('resolves a tag through the origins once per TTL and reads the manifest as upstream content', async () => {
    const { store, calls, fetched, clock } = setup();
    const results = await Promise.all(
      [1, 2, 3].map(() => store.getManifest('library/nginx', { tag: '1.27' })),
    );
    expect(results.map((r) => r?.digest.value)).toEqual(Array(3).fill(manifest.value));
    expect(results[0]?.mediaType).toBe(MediaType.ociManifest);
    expect(results[0]?.stale).toBeUndefined();
    expect(calls).toEqual(['docker.io/library/nginx:1.27']);
    expect(fetched[0]).toEqual({
      digest: manifest.value,
      kind: 'manifest',
      from: { registry: 'docker.io', repository: 'library/nginx', kind: 'manifest' },
    });
    await clock.advance(29_000);
    await store.getManifest('library/nginx', { tag: '1.27' });
    expect(calls).toHaveLength(1);
    await clock.advance(2_000);
    await store.getManifest('library/nginx', { tag: '1.27' });
    expect(calls).toHaveLength(2);
  });

  it('serves the last digest marked stale while the origins fail, then gives up', async () => {
    const { store, clock, setAnswer, status } = setup();
    await store.getManifest('library/nginx', { tag: '1.27' });
    setAnswer(async () => {
      throw new ServiceUnreachableError('GET origin', new Error('connection refused'));
    });
    await clock.advance(40_000);
    const stale = await store.getManifest('library/nginx', { tag: '1.27' });
    expect(stale?.digest.value).toBe(manifest.value);
    expect(stale?.stale).toBe(true);
    const [entry] = status.snapshot(() => 1);
    expect(entry?.staleAnswers).toBe(1);
    expect(entry?.lastError?.message).toContain('connection refused');
    await clock.advance(60_000);
    await expect(store.getManifest('library/nginx', { tag: '1.27' })).rejects.toBeInstanceOf(
      ServiceUnreachableError,
    );
  });

  it('passes on what the origin says stale, and forgets a tag the upstream dropped', async () => {
    const { store, clock, setAnswer } = setup();
    setAnswer(async () => ({ digest: manifest.value, stale: true, ageSeconds: 12 }));
    expect((await store.getManifest('library/nginx', { tag: '1.27' }))?.stale).toBe(true);
    setAnswer(async () => undefined);
    await clock.advance(31_000);
    expect(await store.getManifest('library/nginx', { tag: '1.27' })).toBeUndefined();
    expect(store.tagsCached()).toBe(0);
  });

  it('reads manifests by digest without asking for the tag, and blobs as upstream blobs', async () => {
    const { store, calls, fetched } = setup();
    expect(
      (await store.getManifest('library/nginx', { digest: manifest }))?.bytes.equals(manifestBytes),
    ).toBe(true);
    expect(calls).toEqual([]);
    expect(
      await store.getManifest('library/nginx', { digest: digestOf(Buffer.from('other')) }),
    ).toBeUndefined();
    expect(fetched.map((f) => f.kind)).toEqual(['manifest', 'manifest']);
    expect(await store.listTags('library/nginx', {})).toBeUndefined();
  });
});
