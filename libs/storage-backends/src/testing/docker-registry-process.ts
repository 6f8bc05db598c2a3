/**
 * Debian's `docker-registry` (distribution 2.8) as a child process for tests: a
 * generated config.yml with filesystem storage in a temp directory, on a free
 * 127.0.0.1 port, with htpasswd or token auth, optionally with its access log parsed
 * into requests. `start` resolves once
 * /v2/ answers.
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

/** One line of the registry's access log. */
export interface RegistryRequest {
  readonly method: string;
  /** The request target as sent: path and query. */
  readonly target: string;
  /** The path alone, e.g. `/v2/library/app/blobs/sha256:...`. */
  readonly path: string;
  readonly status: number;
  readonly userAgent: string;
}

export interface DockerRegistryOptions {
  dir: string;
  auth: RegistryAuthConfig;
  /** Keep the access log, for `requests()` (default false). */
  accessLog?: boolean;
}

export interface DockerRegistry {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /**
   * The requests served so far, in the order they completed (empty unless `accessLog`).
   * A registry logs a request once it has answered it, so while it runs this first sends
   * a marker request and waits for its line: every request answered before the call is in.
   */
  requests(): Promise<RegistryRequest[]>;
  /** The tail of its error output, for failure messages. */
  output(): string;
  /** Idempotent; resolves once the process has exited. */
  stop(): Promise<void>;
}

/** Requests whose path carries this query are the markers of `requests()`, never listed. */
const MARKER_PATH = '/v2/';
const MARKER_QUERY = 'kraken-access-log-marker';
// 127.0.0.1 - - [06/Dec/2026:11:23:19 +0000] "GET /v2/ HTTP/1.1" 200 2 "" "curl/7.88.1"
const ACCESS_LINE = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) \S+ "[^"]*" "([^"]*)"/;

export async function startDockerRegistry(options: DockerRegistryOptions): Promise<DockerRegistry> {
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
  const accessLog = options.accessLog ?? false;
  // A port picked here may be taken before the registry binds it; then try another.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = join(options.dir, 'config.yml');
    await writeFile(
      config,
      `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: ${!accessLog}\n` +
        `storage:\n  filesystem:\n    rootdirectory: ${join(options.dir, 'storage')}\n  delete:\n    enabled: true\n` +
        `http:\n  addr: 127.0.0.1:${port}\n${authYaml}`,
    );
    // The access log goes to stdout, everything else to stderr.
    const child = spawn(DOCKER_REGISTRY_BINARY, ['serve', config], {
      stdio: ['ignore', accessLog ? 'pipe' : 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const log = accessLog ? collectAccessLog(child) : undefined;
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitUntilServing(url, child);
      let markers = 0;
      return {
        url,
        async requests() {
          if (log === undefined) return [];
          if (child.exitCode === null && child.signalCode === null) {
            const target = `${MARKER_PATH}?${MARKER_QUERY}=${++markers}`;
            const res = await fetch(`${url}${target}`);
            await res.arrayBuffer();
            await log.waitFor(target);
          }
          return log.entries.filter((r) => !r.target.includes(MARKER_QUERY));
        },
        output: () => stderr,
        stop: () => stopChild(child),
      };
    } catch (err) {
      await stopChild(child);
      if (attempt >= 3)
        throw new Error(`docker-registry did not start: ${(err as Error).message}\n${stderr}`);
    }
  }
}

function collectAccessLog(child: ChildProcess): {
  readonly entries: RegistryRequest[];
  waitFor(target: string): Promise<void>;
} {
  const entries: RegistryRequest[] = [];
  const waiters = new Map<string, () => void>();
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const match = ACCESS_LINE.exec(line);
      if (!match) continue;
      const [, method = '', target = '', status = '0', userAgent = ''] = match;
      entries.push({
        method,
        target,
        path: target.split('?')[0] ?? target,
        status: Number(status),
        userAgent,
      });
      waiters.get(target)?.();
    }
  });
  return {
    entries,
    waitFor: (target) =>
      entries.some((r) => r.target === target)
        ? Promise.resolve()
        : new Promise((done, fail) => {
            const timer = setTimeout(() => fail(new Error(`no access log line for ${target}`)), 5000);
            waiters.set(target, () => {
              clearTimeout(timer);
              waiters.delete(target);
              done();
            });
          }),
  };
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
