// Pushes a small OCI image (config, one random layer, manifest and tag) to a writable registry
// through the distribution API, then prints the OCI_RO_DATA_* variables that let the conformance
// suite test a read-only registry (an agent) that serves the same content.
//
// Usage: node tools/conformance/seed.mjs --url http://127.0.0.1:15000 --repo conformance/repo1 [--tag seeded] [--layer-bytes 4096]
// Output (stdout), one per line: export OCI_RO_DATA_TAGS=... / OCI_RO_DATA_MANIFESTS=... / OCI_RO_DATA_BLOBS=...
/* global fetch, AbortSignal */
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    repo: { type: 'string', default: 'conformance/repo1' },
    tag: { type: 'string', default: 'seeded' },
    'layer-bytes': { type: 'string', default: '4096' },
    username: { type: 'string', default: process.env.OCI_USERNAME ?? '' },
    password: { type: 'string', default: process.env.OCI_PASSWORD ?? '' },
  },
});
if (!values.url) {
  console.error('seed: --url is required');
  process.exit(2);
}
const layerBytes = Number(values['layer-bytes']);
// Seed content is meant to be small; the cap keeps a typo from buffering gigabytes.
if (!Number.isInteger(layerBytes) || layerBytes < 0 || layerBytes > 64 * 1024 * 1024) {
  console.error('seed: --layer-bytes must be an integer between 0 and 67108864');
  process.exit(2);
}
const base = values.url.replace(/\/+$/, '');
const headers = values.username
  ? { authorization: `Basic ${Buffer.from(`${values.username}:${values.password}`).toString('base64')}` }
  : {};
const digestOf = (buf) => `sha256:${createHash('sha256').update(buf).digest('hex')}`;

async function request(method, url, { body, contentType, expect }) {
  const res = await fetch(url, {
    method,
    body,
    headers: { ...headers, ...(contentType ? { 'content-type': contentType } : {}) },
    redirect: 'manual',
    signal: AbortSignal.timeout(30_000),
  });
  if (!expect.includes(res.status)) {
    throw new Error(`${method} ${url}: HTTP ${res.status} ${await res.text()}`);
  }
  await res.body?.cancel();
  return res;
}

async function pushBlob(buf) {
  const digest = digestOf(buf);
  const started = await request('POST', `${base}/v2/${values.repo}/blobs/uploads/`, { expect: [202] });
  const location = new URL(started.headers.get('location') ?? '', `${base}/`);
  location.searchParams.set('digest', digest);
  await request('PUT', location.href, { body: buf, contentType: 'application/octet-stream', expect: [201] });
  return { digest, size: buf.length };
}

const config = Buffer.from(
  JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
);
const layer = randomBytes(layerBytes);
const configDesc = await pushBlob(config);
const layerDesc = await pushBlob(layer);
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configDesc },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layerDesc }],
  }),
);
await request('PUT', `${base}/v2/${values.repo}/manifests/${values.tag}`, {
  body: manifest,
  contentType: 'application/vnd.oci.image.manifest.v1+json',
  expect: [201],
});

console.log(`export OCI_RO_DATA_TAGS='${values.tag}'`);
console.log(`export OCI_RO_DATA_MANIFESTS='${digestOf(manifest)}'`);
console.log(`export OCI_RO_DATA_BLOBS='${configDesc.digest} ${layerDesc.digest}'`);
