/**
 * Upstream registries for pull tests, on loopback: Debian's docker-registry standing in
 * for Docker Hub (anonymous pulls), a private registry with basic auth (htpasswd,
 * bcrypt) and one with token auth (a token service in front, as auth.docker.io is).
 * Every registry keeps its access log, so a test can count the requests each one served.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createTokenCertificates,
  startDockerRegistry,
  startTokenServer,
  type Authorize,
  type DockerRegistry,
  type DockerRegistryOptions,
  type RegistryRequest,
  type TokenServer,
} from '@kraken/storage-backends/testing';
import { buildContainerImage, pushContainerImage } from './container-image.js';
import type { PushedImage } from './registry-images.js';

export type UpstreamName = 'hub' | 'basic' | 'token';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface Upstream {
  readonly registry: DockerRegistry;
  /** `host:port`, as image references name it. */
  readonly host: string;
  /** Undefined for anonymous pulls. */
  readonly credentials: Credentials | undefined;
  /** The Authorization header for a scope, as a client with `credentials` would send it. */
  readonly authorize: Authorize;
}

export interface Upstreams {
  /** Anonymous pulls and pushes: stands in for docker.io. */
  readonly hub: Upstream;
  /** htpasswd (bcrypt) basic auth. */
  readonly basic: Upstream;
  /** Token auth; the token service grants what the credentials ask for. */
  readonly token: Upstream & { readonly tokens: TokenServer };
  /** Pushes a generated image that a runtime can unpack (see container-image.ts). */
  seed(options: {
    upstream: UpstreamName;
    repo: string;
    tag: string;
    layerSizes?: number[];
  }): Promise<PushedImage>;
  /** Stops every registry and the token service, and removes their storage. Idempotent. */
  stop(): Promise<void>;
}

export const UPSTREAM_CREDENTIALS: Credentials = { username: 'kraken', password: 'pull-secret' };

export async function startUpstreams(): Promise<Upstreams> {
  const dir = await mkdtemp(join(tmpdir(), 'kraken-upstreams-'));
  const stoppers: (() => Promise<void>)[] = [];
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await Promise.all(stoppers.map((s) => s()));
      await rm(dir, { recursive: true, force: true });
    })());
  const start = async (name: string, options: Omit<DockerRegistryOptions, 'dir' | 'accessLog'>) => {
    const registryDir = join(dir, name);
    await mkdir(registryDir, { recursive: true });
    const registry = await startDockerRegistry({ ...options, dir: registryDir, accessLog: true });
    stoppers.push(() => registry.stop());
    return registry;
  };

  try {
    const basicHeader = basicAuthorization(UPSTREAM_CREDENTIALS);
    await mkdir(join(dir, 'certs'));
    const certificates = await createTokenCertificates(join(dir, 'certs'));
    const service = 'kraken-test-registry';
    const issuer = 'kraken-test-issuer';
    const tokens = await startTokenServer({ certificates, issuer, service, ...UPSTREAM_CREDENTIALS });
    stoppers.push(() => tokens.close());

    const [hubRegistry, basicRegistry, tokenRegistry] = await Promise.all([
      start('hub', { auth: { kind: 'none' } }),
      start('basic', { auth: { kind: 'htpasswd', ...UPSTREAM_CREDENTIALS } }),
      start('token', {
        auth: {
          kind: 'token',
          realm: tokens.realm,
          service,
          issuer,
          rootCertBundle: certificates.caBundlePath,
        },
      }),
    ]);
    const upstream = (
      registry: DockerRegistry,
      credentials: Credentials | undefined,
      authorize: Authorize,
    ) => ({
      registry,
      host: new URL(registry.url).host,
      credentials,
      authorize,
    });
    const upstreams: Record<UpstreamName, Upstream> = {
      hub: upstream(hubRegistry, undefined, async () => undefined),
      basic: upstream(basicRegistry, UPSTREAM_CREDENTIALS, async () => basicHeader),
      token: upstream(tokenRegistry, UPSTREAM_CREDENTIALS, async (scope) => {
        const query = new URLSearchParams({ service, scope });
        const res = await fetch(`${tokens.realm}?${query}`, { headers: { authorization: basicHeader } });
        if (res.status !== 200) throw new Error(`token for ${scope}: ${res.status} ${await res.text()}`);
        return `Bearer ${((await res.json()) as { token: string }).token}`;
      }),
    };
    return {
      hub: upstreams.hub,
      basic: upstreams.basic,
      token: { ...upstreams.token, tokens },
      seed: ({ upstream: name, repo, tag, layerSizes }) =>
        pushContainerImage({
          registry: upstreams[name].registry.url,
          repo,
          tag,
          image: buildContainerImage(`${repo}:${tag}`, layerSizes),
          authorize: upstreams[name].authorize,
        }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export function basicAuthorization({ username, password }: Credentials): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** How many requests of `method` for exactly `path` are in `requests`. */
export function countRequests(requests: readonly RegistryRequest[], method: string, path: string): number {
  return requests.filter((r) => r.method === method && r.path === path).length;
}

/** `/v2/<repo>/blobs/<digest>` */
export function blobPath(repo: string, digest: string): string {
  return `/v2/${repo}/blobs/${digest}`;
}

/** `/v2/<repo>/manifests/<reference>` */
export function manifestPath(repo: string, reference: string): string {
  return `/v2/${repo}/manifests/${reference}`;
}
