/**
 * Debian's `docker-registry` (distribution 2.8) as a child process for tests: a
 * generated config.yml with filesystem storage in a temp directory, on a free
 * 127.0.0.1 port, with htpasswd or token auth. `start` resolves once /v2/ answers.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const DOCKER_REGISTRY_BINARY = '/usr/bin/docker-registry';

export type RegistryAuthConfig =
  | { readonly kind: 'none' }
  | { readonly kind: 'htpasswd'; readonly username: string; readonly password: string }
  | {
      readonly kind: 'token';
      readonly realm: string;
      readonly service: string;
      readonly issuer: string;
      readonly rootCertBundle: string;
    };

export interface DockerRegistry {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  stop(): Promise<void>;
}

export async function startDockerRegistry(options: {
  dir: string;
  auth: RegistryAuthConfig;
}): Promise<DockerRegistry> {
  await mkdir(join(options.dir, 'storage'), { recursive: true });
  let authYaml = '';
  if (options.auth.kind === 'htpasswd') {
    const { stdout } = await run('htpasswd', ['-Bbn', options.auth.username, options.auth.password]);
    await writeFile(join(options.dir, 'htpasswd'), stdout);
    authYaml = `auth:\n  htpasswd:\n    realm: kraken-test\n    path: ${join(options.dir, 'htpasswd')}\n`;
  } else if (options.auth.kind === 'token') {
    const a = options.auth;
    authYaml =
      `auth:\n  token:\n    realm: ${a.realm}\n    service: ${a.service}\n` +
      `    issuer: ${a.issuer}\n    rootcertbundle: ${a.rootCertBundle}\n`;
  }
  // A port picked here may be taken before the registry binds it; then try another.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = join(options.dir, 'config.yml');
    await writeFile(
      config,
      `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n` +
        `storage:\n  filesystem:\n    rootdirectory: ${join(options.dir, 'storage')}\n  delete:\n    enabled: true\n` +
        `http:\n  addr: 127.0.0.1:${port}\n${authYaml}`,
    );
    const child = spawn(DOCKER_REGISTRY_BINARY, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitUntilServing(url, child);
      return { url, stop: () => stopChild(child) };
    } catch (err) {
      await stopChild(child);
      if (attempt >= 3)
        throw new Error(`docker-registry did not start: ${(err as Error).message}\n${stderr}`);
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitUntilServing(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      return;
    } catch {
      // Not listening yet: polling a child process is the one wait a test cannot fake.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error('not serving after 10 s');
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
