import { readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestRegistry, type TestRegistry } from './testing/test-registry.js';
import { testBlob } from './testing/oci-fixtures.js';

const REPO = 'team/app';

describe('registry API: blob push', () => {
  let registry: TestRegistry;

  beforeEach(async () => {
    registry = await createTestRegistry({ limits: { maxUploadBytes: 64 * 1024 } });
  });
  afterEach(() => registry.close());

  async function startSession(repo = REPO, query = ''): Promise<string> {
    const res = await registry.app.inject({ method: 'POST', url: `/v2/${repo}/blobs/uploads/${query}` });
    expect(res.statusCode).toBe(202);
    expect(res.headers['location']).toMatch(new RegExp(`^/v2/${repo}/blobs/uploads/[0-9a-f-]{36}$`));
    expect(res.headers['docker-upload-uuid']).toBe(String(res.headers['location']).split('/').pop());
    expect(res.headers['range']).toBe('0-0');
    return String(res.headers['location']);
  }

  async function pulled(digest: string, repo = REPO): Promise<Buffer | undefined> {
    const res = await registry.app.inject({ method: 'GET', url: `/v2/${repo}/blobs/${digest}` });
    return res.statusCode === 200 ? res.rawPayload : undefined;
  }

  it('pushes a blob in a single POST with ?digest=', async () => {
    const blob = testBlob('single post');
    const res = await registry.app.inject({
      method: 'POST',
      url: `/v2/${REPO}/blobs/uploads/?digest=${blob.digest.value}`,
      headers: { 'content-type': 'application/octet-stream' },
      payload: blob.bytes,
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['location']).toBe(`/v2/${REPO}/blobs/${blob.digest.value}`);
    expect(res.headers['docker-content-digest']).toBe(blob.digest.value);
    expect((await pulled(blob.digest.value))?.equals(blob.bytes)).toBe(true);
    expect(await readdir(registry.uploadDir)).toEqual([]);
  });

  it('pushes with POST then PUT', async () => {
    const blob = testBlob('post then put');
    const location = await startSession();
    const res = await registry.app.inject({
      method: 'PUT',
      url: `${location}?digest=${blob.digest.value}`,
      headers: { 'content-type': 'application/octet-stream' },
      payload: blob.bytes,
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['location']).toBe(`/v2/${REPO}/blobs/${blob.digest.value}`);
    expect((await pulled(blob.digest.value))?.equals(blob.bytes)).toBe(true);
    // The session is gone once closed.
    const status = await registry.app.inject({ method: 'GET', url: location });
    expect(status.statusCode).toBe(404);
    expect(status.json().errors[0].code).toBe('BLOB_UPLOAD_UNKNOWN');
  });

  it('pushes in ordered chunks, rejects out-of-order ones with 416 and the current range', async () => {
    const blob = testBlob(Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz'));
    const location = await startSession();
    const chunk = (start: number, end: number, url = location) =>
      registry.app.inject({
        method: 'PATCH',
        url,
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end}` },
        payload: blob.bytes.subarray(start, end + 1),
      });

    const outOfOrder = await chunk(10, 19);
    expect(outOfOrder.statusCode).toBe(416);
    expect(outOfOrder.headers['range']).toBe('0-0');
    expect(outOfOrder.headers['location']).toBe(location);
    expect(outOfOrder.json().errors[0].code).toBe('RANGE_INVALID');

    const first = await chunk(0, 9);
    expect(first.statusCode).toBe(202);
    expect(first.headers['range']).toBe('0-9');
    expect(first.headers['location']).toBe(location);
    expect(first.headers['docker-upload-uuid']).toBe(location.split('/').pop());

    const retry = await chunk(0, 9);
    expect(retry.statusCode).toBe(416);
    expect(retry.headers['range']).toBe('0-9');

    const status = await registry.app.inject({ method: 'GET', url: location });
    expect(status.statusCode).toBe(204);
    expect(status.headers['range']).toBe('0-9');
    expect(status.headers['location']).toBe(location);
    expect(status.headers['docker-upload-uuid']).toBe(location.split('/').pop());

    expect((await chunk(10, 19, String(status.headers['location']))).statusCode).toBe(202);
    // The last chunk travels with the closing PUT.
    const close = await registry.app.inject({
      method: 'PUT',
      url: `${location}?digest=${blob.digest.value}`,
      headers: { 'content-type': 'application/octet-stream', 'content-range': '20-35' },
      payload: blob.bytes.subarray(20),
    });
    expect(close.statusCode).toBe(201);
    expect((await pulled(blob.digest.value))?.equals(blob.bytes)).toBe(true);
  });

  it('rejects a closing PUT whose last chunk is out of order', async () => {
    const blob = testBlob('abcdefghij');
    const location = await startSession();
    const res = await registry.app.inject({
      method: 'PUT',
      url: `${location}?digest=${blob.digest.value}`,
      headers: { 'content-range': '5-9' },
      payload: blob.bytes.subarray(5),
    });
    expect(res.statusCode).toBe(416);
    expect(res.headers['range']).toBe('0-0');
    expect(await pulled(blob.digest.value)).toBeUndefined();
  });

  it('rejects a chunk whose Content-Length disagrees with its Content-Range', async () => {
    const location = await startSession();
    const res = await registry.app.inject({
      method: 'PATCH',
      url: location,
      headers: { 'content-range': '0-9' },
      payload: Buffer.from('abc'),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].code).toBe('BLOB_UPLOAD_INVALID');
  });

  it('accepts a streamed PATCH without Content-Range, then an empty closing PUT', async () => {
    const blob = testBlob(Buffer.alloc(40_000, 7));
    const location = await startSession();
    const patch = await registry.app.inject({
      method: 'PATCH',
      url: location,
      headers: { 'content-type': 'application/octet-stream' },
      payload: blob.bytes,
    });
    expect(patch.statusCode).toBe(202);
    expect(patch.headers['range']).toBe('0-39999');
    const more = testBlob(Buffer.concat([blob.bytes, Buffer.from('tail')]));
    expect(
      (await registry.app.inject({ method: 'PATCH', url: location, payload: Buffer.from('tail') })).headers[
        'range'
      ],
    ).toBe('0-40003');
    const close = await registry.app.inject({
      method: 'PUT',
      url: `${location}?digest=${more.digest.value}`,
    });
    expect(close.statusCode).toBe(201);
    expect((await pulled(more.digest.value))?.equals(more.bytes)).toBe(true);
  });

  it('cancels a session with DELETE', async () => {
    const location = await startSession();
    await registry.app.inject({ method: 'PATCH', url: location, payload: Buffer.from('partial') });
    const res = await registry.app.inject({ method: 'DELETE', url: location });
    expect(res.statusCode).toBe(204);
    expect((await registry.app.inject({ method: 'GET', url: location })).statusCode).toBe(404);
    expect((await registry.app.inject({ method: 'DELETE', url: location })).statusCode).toBe(404);
    expect(await readdir(registry.uploadDir)).toEqual([]);
  });

  it('does not let a session be used from another repository', async () => {
    const location = await startSession();
    const foreign = location.replace(`/v2/${REPO}/`, '/v2/other/');
    const res = await registry.app.inject({ method: 'PATCH', url: foreign, payload: Buffer.from('x') });
    expect(res.statusCode).toBe(404);
    expect(res.json().errors[0].code).toBe('BLOB_UPLOAD_UNKNOWN');
    const guessed = await registry.app.inject({
      method: 'GET',
      url: `/v2/${REPO}/blobs/uploads/not-a-session-id-000`,
    });
    expect(guessed.statusCode).toBe(404);
  });

  it('rejects a wrong digest with DIGEST_INVALID and stores nothing', async () => {
    const blob = testBlob('the real content');
    const claimed = testBlob('something else').digest.value;
    const single = await registry.app.inject({
      method: 'POST',
      url: `/v2/${REPO}/blobs/uploads/?digest=${claimed}`,
      payload: blob.bytes,
    });
    expect(single.statusCode).toBe(400);
    expect(single.json().errors[0].code).toBe('DIGEST_INVALID');

    const location = await startSession();
    const put = await registry.app.inject({
      method: 'PUT',
      url: `${location}?digest=${claimed}`,
      payload: blob.bytes,
    });
    expect(put.statusCode).toBe(400);
    expect(put.json().errors[0].code).toBe('DIGEST_INVALID');

    expect(await pulled(claimed)).toBeUndefined();
    expect(await pulled(blob.digest.value)).toBeUndefined();
    expect(registry.store.dump()[REPO]?.blobs ?? []).toEqual([]);
    expect(await readdir(registry.uploadDir)).toEqual([]);
  });

  it('rejects a missing or malformed closing digest without losing the session', async () => {
    const location = await startSession();
    for (const query of ['', '?digest=sha256:short', '?digest=md5:d41d8cd98f00b204e9800998ecf8427e']) {
      const res = await registry.app.inject({ method: 'PUT', url: `${location}${query}` });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors[0].code).toBe('DIGEST_INVALID');
    }
    expect((await registry.app.inject({ method: 'GET', url: location })).statusCode).toBe(204);
  });

  it('verifies sha512 digests, incrementally when announced and by rehashing otherwise', async () => {
    const blob = testBlob(Buffer.alloc(5000, 3), 'sha512');
    const announced = await startSession(REPO, '?digest-algorithm=sha512');
    await registry.app.inject({ method: 'PATCH', url: announced, payload: blob.bytes });
    const a = await registry.app.inject({ method: 'PUT', url: `${announced}?digest=${blob.digest.value}` });
    expect(a.statusCode).toBe(201);
    expect(a.headers['docker-content-digest']).toBe(blob.digest.value);

    const other = testBlob(Buffer.alloc(5000, 4), 'sha512');
    const unannounced = await startSession();
    await registry.app.inject({ method: 'PATCH', url: unannounced, payload: other.bytes });
    const b = await registry.app.inject({
      method: 'PUT',
      url: `${unannounced}?digest=${other.digest.value}`,
    });
    expect(b.statusCode).toBe(201);
    expect((await pulled(other.digest.value))?.equals(other.bytes)).toBe(true);

    const wrong = await startSession();
    await registry.app.inject({ method: 'PATCH', url: wrong, payload: other.bytes });
    const c = await registry.app.inject({ method: 'PUT', url: `${wrong}?digest=${blob.digest.value}` });
    expect(c.statusCode).toBe(400);
    expect(c.json().errors[0].code).toBe('DIGEST_INVALID');

    const bad = await registry.app.inject({
      method: 'POST',
      url: `/v2/${REPO}/blobs/uploads/?digest-algorithm=md5`,
    });
    expect(bad.statusCode).toBe(400);
  });

  it('pushes an empty blob', async () => {
    const blob = testBlob(Buffer.alloc(0));
    const location = await startSession();
    const res = await registry.app.inject({ method: 'PUT', url: `${location}?digest=${blob.digest.value}` });
    expect(res.statusCode).toBe(201);
    const head = await registry.app.inject({ method: 'HEAD', url: `/v2/${REPO}/blobs/${blob.digest.value}` });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe('0');
  });

  it('enforces maxUploadBytes with 413 and keeps the session at its last good offset', async () => {
    const location = await startSession();
    const ok = await registry.app.inject({
      method: 'PATCH',
      url: location,
      payload: Buffer.alloc(60 * 1024),
    });
    expect(ok.statusCode).toBe(202);
    const tooMuch = await registry.app.inject({
      method: 'PATCH',
      url: location,
      payload: Buffer.alloc(8 * 1024),
    });
    expect(tooMuch.statusCode).toBe(413);
    expect(tooMuch.json().errors[0].code).toBe('SIZE_INVALID');
    const status = await registry.app.inject({ method: 'GET', url: location });
    expect(status.headers['range']).toBe(`0-${60 * 1024 - 1}`);

    const big = testBlob(Buffer.alloc(65 * 1024));
    const single = await registry.app.inject({
      method: 'POST',
      url: `/v2/${REPO}/blobs/uploads/?digest=${big.digest.value}`,
      payload: big.bytes,
    });
    expect(single.statusCode).toBe(413);
    expect(await pulled(big.digest.value)).toBeUndefined();
  });

  it('mounts a blob from another repository, and falls back to a session when it cannot', async () => {
    const blob = testBlob('shared layer');
    registry.store.seedBlob('source/repo', blob.digest, blob.bytes);

    const mounted = await registry.app.inject({
      method: 'POST',
      url: `/v2/${REPO}/blobs/uploads/?mount=${blob.digest.value}&from=source/repo`,
    });
    expect(mounted.statusCode).toBe(201);
    expect(mounted.headers['location']).toBe(`/v2/${REPO}/blobs/${blob.digest.value}`);
    expect(mounted.headers['docker-content-digest']).toBe(blob.digest.value);
    expect((await pulled(blob.digest.value))?.equals(blob.bytes)).toBe(true);

    const anonymous = await registry.app.inject({
      method: 'POST',
      url: `/v2/third/repo/blobs/uploads/?mount=${blob.digest.value}`,
    });
    expect(anonymous.statusCode).toBe(201);

    const missing = testBlob('not anywhere').digest.value;
    const fallback = await registry.app.inject({
      method: 'POST',
      url: `/v2/${REPO}/blobs/uploads/?mount=${missing}&from=source/repo`,
    });
    expect(fallback.statusCode).toBe(202);
    expect(fallback.headers['location']).toMatch(new RegExp(`^/v2/${REPO}/blobs/uploads/`));

    const badFrom = await registry.app.inject({
      method: 'POST',
      url: `/v2/${REPO}/blobs/uploads/?mount=${missing}&from=../etc`,
    });
    expect(badFrom.statusCode).toBe(400);
    expect(badFrom.json().errors[0].code).toBe('NAME_INVALID');
  });

  it('expires idle sessions after the TTL', async () => {
    const location = await startSession();
    await registry.clock.advance(30 * 60 * 1000);
    expect(
      (await registry.app.inject({ method: 'PATCH', url: location, payload: Buffer.from('x') })).statusCode,
    ).toBe(202);
    await registry.clock.advance(59 * 60 * 1000);
    expect((await registry.app.inject({ method: 'GET', url: location })).statusCode).toBe(204);
    await registry.clock.advance(2 * 60 * 1000);
    expect((await registry.app.inject({ method: 'GET', url: location })).statusCode).toBe(404);
    expect(await readdir(registry.uploadDir)).toEqual([]);
  });
});
