import { describe, expect, it } from 'vitest';
import { digestOf, MediaType, type Digest } from '@kraken/oci-content';
import type { ManifestRecord } from '../contracts.js';
import { createManifestResolver } from './manifest-resolver.js';

function setup(extra: { staleIfErrorMs?: number } = {}) {
  let clock = 1_000;
  const bytes = Buffer.from('{"schemaVersion":2}');
  const digest = digestOf(bytes);
  const record: ManifestRecord = {
    digest: digest.value,
    mediaType: MediaType.ociManifest,
    size: bytes.length,
  };
  const calls = { tag: 0, record: 0, bytes: 0 };
  const state = { tag: digest as Digest | undefined, down: false };
  const resolver = createManifestResolver({
    buildIndex: {
      getTag: async () => {
        calls.tag++;
        if (state.down) throw new Error('build-index unreachable');
        return state.tag;
      },
      getManifest: async () => {
        calls.record++;
        if (state.down) throw new Error('build-index unreachable');
        return record;
      },
    },
    loadBytes: async () => {
      calls.bytes++;
      return bytes;
    },
    ttlMs: 1_000,
    now: () => clock,
    ...extra,
  });
  return { resolver, calls, state, digest, bytes, record, advance: (ms: number) => (clock += ms) };
}

describe('manifest resolver', () => {
  it('serves a hot tag from memory until its TTL runs out', async () => {
    const { resolver, calls, digest, bytes, advance } = setup();
    const first = await resolver.resolve('a/b', { tag: 'v1' });
    expect(first?.digest.value).toBe(digest.value);
    expect(first?.bytes.equals(bytes)).toBe(true);
    await resolver.resolve('a/b', { tag: 'v1' });
    expect(calls).toEqual({ tag: 1, record: 1, bytes: 1 });
    advance(1_001);
    await resolver.resolve('a/b', { tag: 'v1' });
    // Tag and membership are asked again; the immutable document is not.
    expect(calls).toEqual({ tag: 2, record: 2, bytes: 1 });
  });

  it('does not cache a missing tag', async () => {
    const { resolver, calls, state, digest } = setup();
    state.tag = undefined;
    expect(await resolver.resolve('a/b', { tag: 'v1' })).toBeUndefined();
    state.tag = digest;
    expect((await resolver.resolve('a/b', { tag: 'v1' }))?.digest.value).toBe(digest.value);
    expect(calls.tag).toBe(2);
  });

  it('keeps answering with the last known tag while the build-index is down, for staleIfErrorMs only', async () => {
    const { resolver, state, digest, advance } = setup({ staleIfErrorMs: 5_000 });
    await resolver.resolve('a/b', { tag: 'v1' });
    state.down = true;
    // Fetched at 1 000, trusted up to 2 000, served stale up to 7 000.
    advance(5_000);
    expect((await resolver.resolve('a/b', { tag: 'v1' }))?.digest.value).toBe(digest.value);
    advance(1_000);
    expect((await resolver.resolve('a/b', { tag: 'v1' }))?.digest.value).toBe(digest.value);
    advance(1);
    await expect(resolver.resolve('a/b', { tag: 'v1' })).rejects.toThrow('build-index unreachable');
    // Back up: answers again.
    state.down = false;
    expect((await resolver.resolve('a/b', { tag: 'v1' }))?.digest.value).toBe(digest.value);
  });

  it('never serves a tag past its TTL by default, even while the build-index is down', async () => {
    const { resolver, state, advance } = setup();
    await resolver.resolve('a/b', { tag: 'v1' });
    state.down = true;
    advance(1_000);
    expect(await resolver.resolve('a/b', { tag: 'v1' })).toBeDefined();
    advance(1);
    await expect(resolver.resolve('a/b', { tag: 'v1' })).rejects.toThrow('build-index unreachable');
  });

  it('counts the TTL from when the build-index was asked, not from its answer', async () => {
    let clock = 0;
    const digests = [digestOf('old'), digestOf('new')];
    let answer = 0;
    let release: (() => void) | undefined;
    const resolver = createManifestResolver({
      buildIndex: {
        getTag: async () => {
          const value = digests[answer];
          // A slow answer: 600 ms on its way.
          await new Promise<void>((resolve) => (release = resolve));
          clock += 600;
          return value;
        },
        getManifest: async (_repo, digest) => ({
          digest: digest.value,
          mediaType: MediaType.ociManifest,
          size: 1,
        }),
      },
      loadBytes: async () => Buffer.from('{}'),
      ttlMs: 1_000,
      now: () => clock,
    });
    const first = resolver.resolve('a/b', { tag: 'v1' });
    await Promise.resolve();
    release?.();
    expect((await first)?.digest.value).toBe(digests[0]?.value);
    // The tag moved right after the old answer was read: it is trusted up to 1 000, not 1 600.
    answer = 1;
    clock = 1_000;
    expect((await resolver.resolve('a/b', { tag: 'v1' }))?.digest.value).toBe(digests[0]?.value);
    clock = 1_001;
    const second = resolver.resolve('a/b', { tag: 'v1' });
    await Promise.resolve();
    release?.();
    expect((await second)?.digest.value).toBe(digests[1]?.value);
  });

  it('asks the build-index every time with a TTL of 0', async () => {
    let asked = 0;
    const resolver = createManifestResolver({
      buildIndex: {
        getTag: async () => {
          asked++;
          return undefined;
        },
        getManifest: async () => undefined,
      },
      loadBytes: async () => undefined,
      ttlMs: 0,
    });
    await resolver.resolve('a/b', { tag: 'v1' });
    resolver.rememberTag('a/b', 'v1', digestOf('x'));
    await resolver.resolve('a/b', { tag: 'v1' });
    expect(asked).toBe(2);
  });

  it('lets a writer read its own writes and deletes at once', async () => {
    const { resolver, calls, digest, bytes, record, state } = setup();
    resolver.rememberManifest('a/b', record, bytes, digest);
    resolver.rememberTag('a/b', 'v2', digest);
    expect((await resolver.resolve('a/b', { tag: 'v2' }))?.bytes.equals(bytes)).toBe(true);
    expect(calls).toEqual({ tag: 0, record: 0, bytes: 0 });
    state.tag = undefined;
    resolver.forgetManifest('a/b', digest);
    expect(await resolver.resolve('a/b', { tag: 'v2' })).toBeUndefined();
  });
});
