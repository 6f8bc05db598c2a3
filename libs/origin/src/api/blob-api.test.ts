import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestFromHex, digestOf } from '@kraken/oci-content';
import { generatedSha256, generatedStream, readAll, sha256OfStream } from '@kraken/storage-backends/testing';
import { createOriginClient } from '../client/origin-client.js';
import { body, raw as rawOn, startOrigin, storedNames, type Harness } from '../testing/origin-api-harness.js';

describe('origin blob API (routes + client)', () => {
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

  const raw = (method: string, path: string, options?: Parameters<typeof rawOn>[3]) =>
    rawOn(h, method, path, options);

  it('stores, stats, streams and deletes a blob', async () => {
    const digest = digestOf('hello origin');
    expect(await h.client.statBlob(digest)).toBeUndefined();
    expect(await h.client.getBlob(digest)).toBeUndefined();
    await h.client.putBlob(digest, body('hello origin'), { size: 12 });
    expect(await h.client.statBlob(digest)).toEqual({ size: 12 });
    const stream = await h.client.getBlob(digest);
    expect((await readAll(stream!)).toString()).toBe('hello origin');
    expect(await h.client.deleteBlob(digest)).toBe(true);
    expect(await h.client.deleteBlob(digest)).toBe(false);
    expect(await h.client.statBlob(digest)).toBeUndefined();
  });

  it('accepts a PUT of a blob it already has', async () => {
    const digest = digestOf('twice');
    await h.client.putBlob(digest, body('twice'));
    await h.client.putBlob(digest, body('twice'));
    expect(await h.client.statBlob(digest)).toEqual({ size: 5 });
  });

  it('serves byte ranges', async () => {
    const digest = digestOf('0123456789');
    await h.client.putBlob(digest, body('0123456789'));
    expect(
      (await readAll((await h.client.getBlob(digest, { range: { start: 3, end: 6 } }))!)).toString(),
    ).toBe('3456');
    expect(
      (await readAll((await h.client.getBlob(digest, { range: { start: 8, end: 50 } }))!)).toString(),
    ).toBe('89');
    await expect(h.client.getBlob(digest, { range: { start: 10, end: 12 } })).rejects.toMatchObject({
      code: 'KRAKEN_RANGE_NOT_SATISFIABLE',
      statusCode: 416,
    });

    const partial = await raw('GET', `/v1/blobs/${digest.value}`, { headers: { range: 'bytes=-4' } });
    expect(partial).toMatchObject({ status: 206, text: '6789' });
    expect(partial.headers['content-range']).toBe('bytes 6-9/10');
    expect(partial.headers['content-length']).toBe('4');
    const unsatisfiable = await raw('GET', `/v1/blobs/${digest.value}`, { headers: { range: 'bytes=20-' } });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers['content-range']).toBe('bytes */10');
    const head = await raw('HEAD', `/v1/blobs/${digest.value}`);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('10');
  });

  it('refuses content that does not match the digest and stores nothing', async () => {
    const digest = digestOf('what was promised');
    await expect(h.client.putBlob(digest, body('something else'))).rejects.toMatchObject({
      code: 'KRAKEN_DIGEST_MISMATCH',
      statusCode: 400,
      detail: { expected: digest.value, actual: digestOf('something else').value },
    });
    expect(await h.client.statBlob(digest)).toBeUndefined();
    await nothingStored();
  });

  /** A body that sends some data, then waits until the origin is writing before `then` runs. */
  function bodyFailingOnceWriting(then: (stream: Readable) => void): {
    source: Readable;
    written: Promise<unknown>;
  } {
    const writing = h.nextWrite();
    let sent = false;
    const source = new Readable({
      read() {
        if (sent) return;
        sent = true;
        this.push(Buffer.alloc(256 * 1024, 3));
        void writing.then(() => then(this));
      },
    });
    return { source, written: writing.then((write) => write.settled) };
  }

  it('stores nothing when the client fails mid-upload', async () => {
    const digest = digestOf('never completes');
    const { source, written } = bodyFailingOnceWriting((s) => s.destroy(new Error('source failed')));
    await expect(h.client.putBlob(digest, source)).rejects.toThrow('source failed');
    await expect(written).resolves.toBeInstanceOf(Error);
    await nothingStored();
  });

  it('stores nothing when the client aborts mid-upload', async () => {
    const digest = digestOf('aborted');
    const controller = new AbortController();
    const { source, written } = bodyFailingOnceWriting(() => controller.abort());
    await expect(h.client.putBlob(digest, source, { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    await expect(written).resolves.toBeInstanceOf(Error);
    await nothingStored();
  });

  it('streams a large blob through PUT and GET', { timeout: 120_000 }, async () => {
    const size = 64 * 1024 * 1024;
    const digest = digestFromHex('sha256', generatedSha256(size));
    await h.client.putBlob(digest, generatedStream(size), { size });
    expect(await sha256OfStream((await h.client.getBlob(digest))!)).toEqual({ hex: digest.hex, bytes: size });
    const metrics = await h.metrics.registry.metrics();
    expect(metrics).toContain(`kraken_origin_blob_bytes_stored_total ${size}`);
    expect(metrics).toContain('kraken_origin_blobs_stored_total 1');
    // Served bytes are counted when the server's read stream ends, which can trail
    // the client's last byte within this one process.
    await expect
      .poll(() => h.metrics.registry.metrics())
      .toContain(`kraken_origin_blob_bytes_served_total ${size}`);
  });

  it('rejects digests that are malformed or try to traverse with 400', async () => {
    const bad = [
      '..%2F..%2Fetc%2Fpasswd',
      'sha256:..%2F..%2Fetc',
      `sha256:${'A'.repeat(64)}`,
      `sha256:${'a'.repeat(63)}`,
      `md5:${'a'.repeat(32)}`,
      `sha256%3A${'a'.repeat(64)}%2F..`,
      '%2e',
    ];
    for (const digest of bad) {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const response = await raw(method, `/v1/blobs/${digest}`, method === 'PUT' ? { body: 'x' } : {});
        expect(response.status, `${method} ${digest}`).toBe(400);
        expect(response.json()).toMatchObject({ error: { code: 'KRAKEN_INVALID_DIGEST' } });
      }
      expect((await raw('HEAD', `/v1/blobs/${digest}`)).status).toBe(400);
    }
    // Dot segments are resolved by the router before any handler sees them.
    expect((await raw('PUT', '/v1/blobs/%2e%2e', { body: 'x' })).status).toBe(404);
    await nothingStored();
  });

  it('answers unknown blobs with a 404 error body', async () => {
    const digest = digestOf('absent');
    const response = await raw('GET', `/v1/blobs/${digest.value}`);
    expect(response.status).toBe(404);
    expect(response.json()).toEqual({
      error: {
        code: 'KRAKEN_BLOB_NOT_FOUND',
        message: `blob ${digest.value} not found`,
        detail: { digest: digest.value },
      },
    });
  });

  it('answers readiness through ping and reports an unreachable origin', async () => {
    await expect(h.client.ping()).resolves.toBeUndefined();
    const down = await startOrigin({}, false);
    await expect(down.client.ping()).rejects.toMatchObject({ code: 'KRAKEN_NOT_READY' });
    await down.close();
    const gone = createOriginClient({ url: down.url });
    await expect(gone.statBlob(digestOf('x'))).rejects.toMatchObject({ code: 'KRAKEN_SERVICE_UNREACHABLE' });
    await gone.close();
    await gone.close();
  });
});
