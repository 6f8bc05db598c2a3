import { describe, expect, it } from 'vitest';
import { digestOf, MediaType, type Digest } from '@kraken/oci-content';
import type { ManifestRecord } from '../contracts.js';
import { createManifestResolver } from './manifest-resolver.js';

function setup() {
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

  it('keeps answering with the last known tag while the build-index is down', async () => {
    const { resolver, state, digest, advance } = setup();
    await resolver.resolve('a/b', { tag: 'v1' });
    state.down = true;
    advance(5_000);
    expect((await resolver.resolve('a/b', { tag: 'v1' }))?.digest.value).toBe(digest.value);
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
