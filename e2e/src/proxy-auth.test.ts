/**
 * Authenticated pushes through the proxy with the real skopeo client: htpasswd Basic
 * auth (a file made by Apache's htpasswd) with per-repository rules, and the registry
 * token flow with a small token service, both through skopeo's own handling of the
 * 401 challenges. Each mode runs its own cluster, since the proxy has one auth config.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, hostOf, type Cluster } from './support/cluster.js';
import { generateImage, type GeneratedImage } from './support/oci-layout.js';
import { layoutTopDigest } from './support/oci-layout-reader.js';
import { startTokenService, type TokenService } from './support/token-service.js';

const run = promisify(execFile);
/** go-containerregistry's crane, built by tools/install/go-tools.sh. */
const CRANE = fileURLToPath(new URL('../../.cache/bin/crane', import.meta.url));
let work: string;
let image: GeneratedImage;
let layout: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-auth-'));
  layout = join(work, 'image');
  image = await generateImage(layout, 'v1', [256 * 1024, 4096]);
  // No stored credentials of the user running the tests may leak into these runs.
  await writeFile(join(work, 'auth.json'), '{}');
});

afterAll(async () => {
  if (!process.env.KEEP_E2E) await rm(work, { recursive: true, force: true });
});

/** skopeo copy; resolves with its stderr on failure, undefined on success. */
async function skopeo(
  source: string,
  destination: string,
  extra: string[] = [],
): Promise<string | undefined> {
  const args = ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--preserve-digests'];
  if (destination.startsWith('oci:')) args.push('--dest-oci-accept-uncompressed-layers');
  args.push('--retry-times=0', ...extra, source, destination);
  try {
    await run('skopeo', args, {
      env: { ...process.env, REGISTRY_AUTH_FILE: join(work, 'auth.json') },
      timeout: 120_000,
    });
    return undefined;
  } catch (err) {
    return (err as { stderr?: string }).stderr ?? String(err);
  }
}

async function pushTo(proxy: string, repo: string, creds: string[]): Promise<string | undefined> {
  return skopeo(`oci:${layout}:v1`, `docker://${proxy}/${repo}:v1`, creds);
}

describe('proxy with htpasswd auth, through skopeo', () => {
  let cluster: Cluster;
  let proxy: string;

  beforeAll(async () => {
    const htpasswd = join(work, 'htpasswd');
    await run('htpasswd', ['-cbB', htpasswd, 'alice', 'alice-pw']);
    await run('htpasswd', ['-bB', htpasswd, 'bob', 'bob-pw']);
    cluster = await startCluster({
      dir: join(work, 'basic'),
      agents: 0,
      overrides: {
        proxy: {
          auth: {
            htpasswd: { file: htpasswd },
            rules: [
              { repositories: ['e2e/alice/**', 'e2e/public/*'], users: ['alice'], actions: ['pull', 'push'] },
              { repositories: ['e2e/**'], users: ['*'], actions: ['pull'] },
            ],
            anonymousPull: ['e2e/public/*'],
          },
        },
      },
    });
    proxy = hostOf(cluster.endpoints.proxy[0]!);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('challenges clients at /v2/ with the spec error body', async () => {
    const res = await fetch(`${cluster.endpoints.proxy[0]}/v2/`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="kraken",charset="UTF-8"');
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    expect(await res.json()).toEqual({
      errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }],
    });
  });

  it('refuses a push without credentials (401)', async () => {
    const failure = await pushTo(proxy, 'e2e/alice/app', []);
    expect(failure).toMatch(/authentication required|unauthorized/i);
  });

  it('refuses a push with a wrong password (401)', async () => {
    const failure = await pushTo(proxy, 'e2e/alice/app', ['--dest-creds', 'alice:not-her-password']);
    expect(failure).toMatch(/invalid username or password|unauthorized/i);
  });

  it('refuses right credentials outside the user’s rules (403 DENIED)', async () => {
    const failure = await pushTo(proxy, 'e2e/alice/app', ['--dest-creds', 'bob:bob-pw']);
    expect(failure).toMatch(/denied/i);
    expect(failure).not.toMatch(/authentication required/i);
    const direct = await fetch(`${cluster.endpoints.proxy[0]}/v2/e2e/alice/app/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('bob:bob-pw').toString('base64')}` },
    });
    expect(direct.status).toBe(403);
    expect(((await direct.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('DENIED');
  });

  it('pushes with the right credentials, and the image pulls back with any user’s', async () => {
    expect(await pushTo(proxy, 'e2e/alice/app', ['--dest-creds', 'alice:alice-pw'])).toBeUndefined();
    const out = join(work, 'pulled-basic');
    const pulled = await skopeo(`docker://${proxy}/e2e/alice/app:v1`, `oci:${out}:v1`, [
      '--src-creds',
      'bob:bob-pw',
    ]);
    expect(pulled).toBeUndefined();
    expect(await layoutTopDigest(out)).toBe(image.manifest.digest);
    expect(await skopeo(`docker://${proxy}/e2e/alice/app:v1`, `oci:${join(work, 'anon')}:v1`)).toMatch(
      /authentication required|unauthorized/i,
    );
  });

  it('lets anyone pull where anonymousPull allows it, and nothing more', async () => {
    expect(await pushTo(proxy, 'e2e/public/tools', ['--dest-creds', 'alice:alice-pw'])).toBeUndefined();
    const out = join(work, 'pulled-anonymous');
    expect(await skopeo(`docker://${proxy}/e2e/public/tools:v1`, `oci:${out}:v1`)).toBeUndefined();
    expect(await layoutTopDigest(out)).toBe(image.manifest.digest);
    expect(await pushTo(proxy, 'e2e/public/tools', [])).toMatch(/authentication required|unauthorized/i);
  });

  it('works with crane too: refused before `crane auth login`, pushes and resolves after it', async () => {
    const crane = (args: string[]) =>
      run(CRANE, args, { env: { ...process.env, DOCKER_CONFIG: join(work, 'crane') }, timeout: 120_000 });
    const ref = `${proxy}/e2e/alice/crane:v1`;
    await expect(crane(['push', '--insecure', layout, ref])).rejects.toThrow(/UNAUTHORIZED|401/);
    await crane(['auth', 'login', proxy, '-u', 'alice', '-p', 'alice-pw']);
    await crane(['push', '--insecure', layout, ref]);
    const { stdout } = await crane(['digest', '--insecure', ref]);
    expect(stdout.trim()).toBe(image.manifest.digest);
  });
});

describe('proxy with registry tokens, through skopeo', () => {
  const service = 'kraken-e2e';
  let tokens: TokenService;
  let cluster: Cluster;
  let proxy: string;

  beforeAll(async () => {
    tokens = await startTokenService({
      issuer: 'kraken-e2e-issuer',
      service,
      users: { ci: 'ci-pw' },
      // The service's own policy: ci may push under e2e/token/ and nowhere else.
      grant: (_user, repository, actions) => (repository.startsWith('e2e/token/') ? actions : []),
    });
    const publicKeyFile = join(work, 'issuer.pem');
    await writeFile(publicKeyFile, tokens.publicKeyPem);
    cluster = await startCluster({
      dir: join(work, 'token'),
      agents: 0,
      overrides: {
        proxy: {
          auth: {
            token: { realm: tokens.realm, service, issuer: tokens.issuer, publicKeyFile },
            // The token service decides; the rules let any token holder do what its token allows.
            rules: [{ repositories: ['**'], users: ['*'], actions: ['pull', 'push'] }],
          },
        },
      },
    });
    proxy = hostOf(cluster.endpoints.proxy[0]!);
  });

  afterAll(async () => {
    await cluster?.stop();
    await tokens?.close();
  });

  const token = (name: string, expiresInSeconds?: number) =>
    tokens.sign({
      subject: 'ci',
      access: [{ type: 'repository', name, actions: ['pull', 'push'] }],
      ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
    });

  it('goes through the token flow: credentials at the realm, the token at the proxy', async () => {
    expect(await pushTo(proxy, 'e2e/token/flow', ['--dest-creds', 'ci:ci-pw'])).toBeUndefined();
    // The token service grants nothing outside e2e/token/: the proxy denies the push
    // (skopeo's first request is a HEAD, whose 403 has no body to quote).
    expect(await pushTo(proxy, 'e2e/other/flow', ['--dest-creds', 'ci:ci-pw'])).toMatch(/403|denied/i);
  });

  it('pushes with a valid token for the repository', async () => {
    const valid = await token('e2e/token/app');
    expect(await pushTo(proxy, 'e2e/token/app', ['--dest-registry-token', valid])).toBeUndefined();
    const out = join(work, 'pulled-token');
    expect(
      await skopeo(`docker://${proxy}/e2e/token/app:v1`, `oci:${out}:v1`, ['--src-registry-token', valid]),
    ).toBeUndefined();
    expect(await layoutTopDigest(out)).toBe(image.manifest.digest);
  });

  it('refuses an expired token (401)', async () => {
    const expired = await token('e2e/token/app', -3600);
    const failure = await pushTo(proxy, 'e2e/token/app', ['--dest-registry-token', expired]);
    expect(failure).toMatch(/expired|authentication required|unauthorized/i);
    const direct = await fetch(`${cluster.endpoints.proxy[0]}/v2/e2e/token/app/tags/list`, {
      headers: { authorization: `Bearer ${expired}` },
    });
    expect(direct.status).toBe(401);
    expect(direct.headers.get('www-authenticate')).toBe(
      `Bearer realm="${tokens.realm}",service="${service}",scope="repository:e2e/token/app:pull",error="invalid_token"`,
    );
  });

  it('refuses a token for another repository (403 DENIED)', async () => {
    const other = await token('e2e/token/elsewhere');
    const failure = await pushTo(proxy, 'e2e/token/app', ['--dest-registry-token', other]);
    expect(failure).toMatch(/403|denied/i);
    const direct = await fetch(`${cluster.endpoints.proxy[0]}/v2/e2e/token/app/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other}` },
    });
    expect(direct.status).toBe(403);
    expect(((await direct.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('DENIED');
  });
});
