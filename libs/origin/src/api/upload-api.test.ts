import { readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf } from '@kraken/oci-content';
import { failingStream, readAll, stallingStream } from '@kraken/storage-backends/testing';
import { body, raw as rawOn, startOrigin, storedNames, type Harness } from '../testing/origin-api-harness.js';

describe('origin upload API (routes + client)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startOrigin();
  });
  afterEach(async () => {
    await h.close();
  });

  async function nothingStored(): Promise<void> {
    expect(await storedNames(h)).toEqual({ keys: [], temp: [] });
  }

  const raw = (...args: Parameters<typeof rawOn> extends [Harness, ...infer R] ? R : never) =>
    rawOn(h, ...args);

  it('uploads a blob in ordered chunks', async () => {
    const content = 'first chunk|second chunk|third';
    const digest = digestOf(content);
    const id = await h.client.createUpload();
    expect(await h.client.uploadOffset(id)).toBe(0);
    expect(await h.client.uploadChunk(id, body('first chunk|'), { start: 0, size: 12 })).toBe(12);
    expect(await h.client.uploadChunk(id, body('second chunk|'), { start: 12 })).toBe(25);
    await expect(h.client.uploadChunk(id, body('third'), { start: 12 })).rejects.toMatchObject({
      code: 'KRAKEN_UPLOAD_OUT_OF_ORDER',
      statusCode: 416,
      detail: { offset: 25 },
    });
    expect(await h.client.uploadChunk(id, body('third'), { start: 25 })).toBe(30);
    expect(await h.client.uploadOffset(id)).toBe(30);
    expect(await h.client.statBlob(digest)).toBeUndefined();
    await h.client.commitUpload(id, digest);
    expect((await readAll((await h.client.getBlob(digest))!)).toString()).toBe(content);
    expect(await h.client.uploadOffset(id)).toBeUndefined();
    expect(await readdir(h.uploadsDir)).toEqual([]);
  });

  it('takes Content-Range chunks and a last chunk on commit', async () => {
    const digest = digestOf('abcdefgh');
    const id = await h.client.createUpload();
    const patch = await raw('PATCH', `/v1/uploads/${id}`, {
      headers: { 'content-range': '0-3' },
      body: 'abcd',
    });
    expect(patch).toMatchObject({ status: 202 });
    expect(patch.json()).toEqual({ uploadId: id, offset: 4 });
    const gap = await raw('PATCH', `/v1/uploads/${id}`, {
      headers: { 'content-range': 'bytes 6-7/*' },
      body: 'gh',
    });
    expect(gap.status).toBe(416);
    const lying = await raw('PATCH', `/v1/uploads/${id}`, {
      headers: { 'content-range': '4-9' },
      body: 'ef',
    });
    expect(lying.status).toBe(400);
    const commit = await raw('PUT', `/v1/uploads/${id}?digest=${digest.value}`, { body: 'efgh' });
    expect(commit.status).toBe(201);
    expect(await h.client.statBlob(digest)).toEqual({ size: 8 });
  });

  it('refuses a commit whose content does not match and keeps the session', async () => {
    const id = await h.client.createUpload();
    await h.client.uploadChunk(id, body('real content'), { start: 0 });
    const claimed = digestOf('other content');
    await expect(h.client.commitUpload(id, claimed)).rejects.toMatchObject({
      code: 'KRAKEN_DIGEST_MISMATCH',
    });
    expect(await h.client.statBlob(claimed)).toBeUndefined();
    expect(await h.client.uploadOffset(id)).toBe(12);
    expect(await h.client.cancelUpload(id)).toBe(true);
    expect(await h.client.cancelUpload(id)).toBe(false);
    await expect(h.client.commitUpload(id, digestOf('real content'))).rejects.toMatchObject({
      code: 'KRAKEN_UPLOAD_NOT_FOUND',
      statusCode: 404,
    });
    await nothingStored();
  });

  it('cuts a chunk that fails half-way back off the session', async () => {
    const id = await h.client.createUpload();
    await h.client.uploadChunk(id, body('kept'), { start: 0 });
    await expect(h.client.uploadChunk(id, failingStream(100_000), { start: 4 })).rejects.toThrow(
      'source failed',
    );
    // The server notices the disconnect on its own schedule; the session is busy until then.
    await expect.poll(() => h.client.uploadOffset(id)).toBe(4);
    await expect
      .poll(() => h.client.uploadChunk(id, body('more'), { start: 4 }).catch((e: unknown) => e))
      .toBe(8);
  });

  it('lets one request at a time write to a session', async () => {
    const id = await h.client.createUpload();
    const controller = new AbortController();
    let stalled!: () => void;
    const stalledOnce = new Promise<void>((resolve) => (stalled = resolve));
    const first = h.client.uploadChunk(
      id,
      stallingStream(1024, () => stalled()),
      { start: 0, signal: controller.signal },
    );
    await stalledOnce;
    // A probe at a wrong offset never writes: it reports busy once the first chunk is
    // being written, and out-of-order until then.
    await expect
      .poll(() =>
        h.client
          .uploadChunk(id, body('x'), { start: 999 })
          .catch((e: unknown) => (e as { code?: string }).code),
      )
      .toBe('KRAKEN_UPLOAD_BUSY');
    controller.abort();
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    await expect.poll(() => h.client.uploadChunk(id, body('x'), { start: 0 }).catch(() => -1)).toBe(1);
  });

  it('rejects malformed upload ids and digests before touching disk', async () => {
    for (const id of [
      '..%2F..%2Fetc',
      'not-a-uuid',
      '%2e',
      `${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(11)}%2F`,
    ]) {
      const response = await raw('GET', `/v1/uploads/${id}`);
      expect(response.status, id).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: 'KRAKEN_INVALID_REQUEST' } });
    }
    const id = await h.client.createUpload();
    expect((await raw('PUT', `/v1/uploads/${id}`)).status).toBe(400);
    expect((await raw('PUT', `/v1/uploads/${id}?digest=sha256:..%2F..`)).json()).toMatchObject({
      error: { code: 'KRAKEN_INVALID_DIGEST' },
    });
    expect(
      (await raw('PATCH', `/v1/uploads/${id}`, { headers: { 'upload-offset': '-1' }, body: 'x' })).status,
    ).toBe(400);
  });
});

describe('origin API limits', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('refuses blobs over the size cap', async () => {
    h = await startOrigin({ maxBlobBytes: 100 });
    const big = Buffer.alloc(101, 1);
    await expect(h.client.putBlob(digestOf(big), body(big), { size: 101 })).rejects.toMatchObject({
      code: 'KRAKEN_CONTENT_TOO_LARGE',
      statusCode: 413,
    });
    const id = await h.client.createUpload();
    await h.client.uploadChunk(id, body(Buffer.alloc(60)), { start: 0, size: 60 });
    await expect(
      h.client.uploadChunk(id, body(Buffer.alloc(60)), { start: 60, size: 60 }),
    ).rejects.toMatchObject({
      code: 'KRAKEN_CONTENT_TOO_LARGE',
    });
    expect(await h.client.uploadOffset(id)).toBe(60);
  });

  it('caps open upload sessions and sweeps expired ones', async () => {
    h = await startOrigin({ maxUploadSessions: 2, uploadTtlSeconds: 60 });
    const first = await h.client.createUpload();
    await h.client.createUpload();
    await expect(h.client.createUpload()).rejects.toMatchObject({
      code: 'KRAKEN_TOO_MANY_UPLOADS',
      statusCode: 429,
    });
    h.clock.now += 61_000;
    const third = await h.client.createUpload();
    expect(await h.client.uploadOffset(first)).toBeUndefined();
    expect(await h.client.uploadOffset(third)).toBe(0);
    expect(await readdir(h.uploadsDir)).toEqual([third]);
  });
});
