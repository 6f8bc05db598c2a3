/**
 * A scripted upstream registry for the pull-through tests: images held in memory,
 * every request counted by method and path, and switches for the faults a real
 * registry gives only by accident: down (503), hanging, lying about a manifest's
 * digest, asking for basic auth.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { digestOf, MediaType, type Digest } from '@kraken/oci-content';

export interface ScriptedImage {
  readonly repository: string;
  readonly tag: string;
  readonly manifest: Digest;
  readonly manifestBytes: Buffer;
  readonly layer: Digest;
  readonly layerBytes: Buffer;
  readonly config: Digest;
}

export interface ScriptedUpstream {
  readonly url: string;
  /** `METHOD /v2/...` of every request, in order. */
  readonly requests: string[];
  /** How many requests had this method and path. */
  count(method: string, path: string): number;
  addImage(repository: string, tag: string, layerBytes: Buffer): ScriptedImage;
  /** Points `tag` at other manifest bytes while the digest header keeps naming the old ones. */
  lie(image: ScriptedImage): void;
  mode: 'up' | 'down' | 'hang';
  /** When set, every request needs these basic-auth credentials. */
  credentials: { username: string; password: string } | undefined;
  close(): Promise<void>;
}

export async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, Buffer>();
  const tags = new Map<string, { digest: string; bytes: Buffer }>();
  const requests: string[] = [];
  const hanging = new Set<ServerResponse>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(`${req.method} ${path}`);
    if (upstream.mode === 'hang') {
      hanging.add(res);
      return;
    }
    if (upstream.mode === 'down') return void res.writeHead(503).end();
    const creds = upstream.credentials;
    if (creds !== undefined) {
      const expected = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected)
        return void res.writeHead(401, { 'www-authenticate': 'Basic realm="upstream"' }).end();
    }
    if (path === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    const match = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(path);
    if (match === null) return void res.writeHead(404).end();
    const [, repository, kind, reference] = match;
    let body: Buffer | undefined;
    let digest: string | undefined;
    if (kind === 'blobs') {
      body = blobs.get(reference ?? '');
      digest = reference;
    } else if (reference?.includes(':')) {
      body = manifests.get(reference);
      digest = reference;
    } else {
      const tagged = tags.get(`${repository}:${reference}`);
      body = tagged?.bytes;
      digest = tagged?.digest;
    }
    if (body === undefined || digest === undefined) return void res.writeHead(404).end();
    res.writeHead(200, {
      'content-length': body.length,
      'docker-content-digest': digest,
      'content-type': kind === 'blobs' ? 'application/octet-stream' : MediaType.ociManifest,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const upstream: ScriptedUpstream = {
    url: `http://127.0.0.1:${port}`,
    requests,
    mode: 'up',
    credentials: undefined,
    count: (method, path) => requests.filter((r) => r === `${method} ${path}`).length,
    addImage(repository, tag, layerBytes) {
      const configBytes = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', tag }));
      const config = digestOf(configBytes);
      const layer = digestOf(layerBytes);
      const manifestBytes = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.ociManifest,
          config: { mediaType: MediaType.ociConfig, digest: config.value, size: configBytes.length },
          layers: [
            {
              mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
              digest: layer.value,
              size: layerBytes.length,
            },
          ],
        }),
      );
      const manifest = digestOf(manifestBytes);
      blobs.set(config.value, configBytes);
      blobs.set(layer.value, layerBytes);
      manifests.set(manifest.value, manifestBytes);
      tags.set(`${repository}:${tag}`, { digest: manifest.value, bytes: manifestBytes });
      return { repository, tag, manifest, manifestBytes, layer, layerBytes, config };
    },
    lie(image) {
      const forged = Buffer.concat([image.manifestBytes, Buffer.from(' ')]);
      manifests.set(image.manifest.value, forged);
      tags.set(`${image.repository}:${image.tag}`, { digest: image.manifest.value, bytes: forged });
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return upstream;
}
