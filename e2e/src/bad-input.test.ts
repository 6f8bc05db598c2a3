/**
 * Hostile and broken requests against real processes: each gets the spec's error, the
 * origin's store holds nothing half-written afterwards, and the servers keep serving.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, MediaType } from '@kraken/oci-content';
import { startCluster, type Cluster } from './support/cluster.js';
import { auditContentStore } from './support/store-audit.js';

let work: string;
let cluster: Cluster;
let proxy: string;
let agent: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-bad-'));
  cluster = await startCluster({ dir: join(work, 'cluster'), agents: 1 });
  proxy = cluster.endpoints.proxy[0]!;
  agent = cluster.endpoints.agent[0]!;
});

afterAll(async () => {
  await cluster?.stop();
  await rm(work, { recursive: true, force: true });
});

async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { errors?: { code: string }[] };
  return body.errors?.[0]?.code;
}

async function startUpload(repo = 'bad/input'): Promise<string> {
  const res = await fetch(`${proxy}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  expect(res.status).toBe(202);
  return new URL(res.headers.get('location')!, proxy).toString();
}

/** Sends raw bytes on a socket and returns the status line (for paths fetch would normalise). */
async function rawRequest(base: string, requestLine: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`${requestLine}\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`);
    });
    let data = '';
    socket.on('data', (c) => (data += c.toString()));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

describe('bad input', () => {
  it('rejects an upload whose content does not match its digest, storing nothing', async () => {
    const wrong = digestOf('something else').value;
    const res = await fetch(`${proxy}/v2/bad/input/blobs/uploads/?digest=${wrong}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: 'actual content',
    });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('DIGEST_INVALID');
    expect((await fetch(`${proxy}/v2/bad/input/blobs/${wrong}`, { method: 'HEAD' })).status).toBe(404);
  });

  it('rejects malformed and oversized manifests', async () => {
    const malformed = await fetch(`${proxy}/v2/bad/input/manifests/m1`, {
      method: 'PUT',
      headers: { 'content-type': MediaType.ociManifest },
      body: '{"schemaVersion": 2, "layers": "nope"',
    });
    expect(malformed.status).toBe(400);
    expect(await errorCode(malformed)).toBe('MANIFEST_INVALID');

    const huge = Buffer.alloc(5 * 1024 * 1024, 0x20);
    const oversized = await fetch(`${proxy}/v2/bad/input/manifests/m2`, {
      method: 'PUT',
      headers: { 'content-type': MediaType.ociManifest },
      body: huge,
    });
    expect(oversized.status).toBe(413);
    expect(['SIZE_INVALID', 'MANIFEST_INVALID']).toContain(await errorCode(oversized));
  });

  it('answers unknown repositories, tags and blobs with the spec codes', async () => {
    for (const base of [proxy, agent]) {
      const tag = await fetch(`${base}/v2/no/such/repo/manifests/latest`);
      expect(tag.status).toBe(404);
      expect(['MANIFEST_UNKNOWN', 'NAME_UNKNOWN']).toContain(await errorCode(tag));
      const tags = await fetch(`${base}/v2/no/such/repo/tags/list`);
      expect(tags.status).toBe(404);
      expect(await errorCode(tags)).toBe('NAME_UNKNOWN');
      const blob = await fetch(`${base}/v2/no/such/repo/blobs/${digestOf('nothing').value}`);
      expect(blob.status).toBe(404);
      expect(await errorCode(blob)).toBe('BLOB_UNKNOWN');
    }
  });

  it('refuses path tricks in names and digests', async () => {
    const attempts = [
      'GET /v2/../../etc/passwd/manifests/latest HTTP/1.1',
      'GET /v2/a/%2e%2e/%2e%2e/etc/manifests/latest HTTP/1.1',
      'GET /v2/a%2f..%2f..%2fetc/manifests/latest HTTP/1.1',
      'GET /v2/a/b/blobs/sha256:..%2f..%2f..%2fetc%2fpasswd HTTP/1.1',
      'GET /v2/a/b/blobs/sha256:../../../../etc/passwd HTTP/1.1',
      'GET /v2/a\\..\\b/manifests/latest HTTP/1.1',
    ];
    for (const base of [proxy, agent]) {
      for (const line of attempts) {
        const response = await rawRequest(base, line);
        const status = Number(response.split(' ')[1]);
        expect(status, `${line} -> ${response.split('\r\n')[0]}`).toBeGreaterThanOrEqual(400);
        expect(status, line).toBeLessThan(500);
        expect(response).not.toContain('root:');
      }
    }
  });

  it('answers 416 to a chunk out of order and keeps the upload usable', async () => {
    const location = await startUpload();
    const first = await fetch(location, {
      method: 'PATCH',
      headers: { 'content-type': 'application/octet-stream', 'content-range': '0-4' },
      body: 'hello',
    });
    expect(first.status).toBe(202);
    const next = new URL(first.headers.get('location')!, proxy).toString();
    const skipped = await fetch(next, {
      method: 'PATCH',
      headers: { 'content-type': 'application/octet-stream', 'content-range': '10-14' },
      body: 'world',
    });
    expect(skipped.status).toBe(416);
    const status = await fetch(next);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe('0-4');
    const done = await fetch(
      `${next}${next.includes('?') ? '&' : '?'}digest=${digestOf('hello world').value}`,
      {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: ' world',
      },
    );
    expect(done.status).toBe(201);
  });

  it('survives a client that disconnects mid-upload, leaving nothing half-written', async () => {
    const location = new URL(await startUpload());
    const declared = 8 * 1024 * 1024;
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(location.port), location.hostname, () => {
        socket.write(
          `PATCH ${location.pathname}${location.search} HTTP/1.1\r\nHost: ${location.host}\r\n` +
            `Content-Type: application/octet-stream\r\nContent-Length: ${declared}\r\n\r\n`,
        );
        socket.write(Buffer.alloc(1024 * 1024, 1), () => {
          socket.destroy();
          resolve();
        });
      });
      socket.on('error', reject);
    });
    // The server keeps serving, and the session reports a consistent offset.
    const status = await fetch(location);
    expect([204, 404]).toContain(status.status);
    expect((await fetch(`${proxy}/v2/`)).status).toBe(200);
    expect((await fetch(`${proxy}/health`)).status).toBe(200);
  });

  it('left the origin store holding only verified blobs', async () => {
    const audit = await auditContentStore(join(cluster.dir, 'origin-0', 'store'));
    expect(audit.problems).toEqual([]);
    expect(audit.blobs).toContain(digestOf('hello world').value);
    expect(audit.blobs).not.toContain(digestOf('actual content').value);
  });
});
