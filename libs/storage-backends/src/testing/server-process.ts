/**
 * A storage server (MinIO, fake-gcs-server) as a child process of a test: the binary
 * that `tools/install/go-tools.sh` builds into `<repo>/.cache/bin`, a free 127.0.0.1
 * port, and a readiness URL polled until it answers. A missing binary is an error that
 * says how to build it: these tests never skip themselves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ServerProcess {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Idempotent; resolves once the process has exited. */
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  /** Name under `.cache/bin` and in `go-tools.sh`. */
  readonly tool: string;
  readonly args: (port: number) => string[];
  readonly env?: Record<string, string>;
  /** Path answered (any HTTP status below 500) once the server is serving. */
  readonly readyPath: string;
  readonly startTimeoutMs?: number;
}

/** `<repo>/.cache/bin/<tool>`, found from this file's location in the repository. */
export function toolBinary(tool: string): string {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
  return join(repo, '.cache', 'bin', tool);
}

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const binary = toolBinary(options.tool);
  try {
    await access(binary, constants.X_OK);
  } catch {
    throw new Error(
      `${options.tool} is not installed at ${binary}: run \`bash tools/install/go-tools.sh ${options.tool}\``,
    );
  }
  // A port picked here may be taken before the server binds it; then try another.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(binary, options.args(port), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitUntilServing(`${url}${options.readyPath}`, child, options.startTimeoutMs ?? 30_000);
      return { url, port, stop: () => stopChild(child) };
    } catch (err) {
      await stopChild(child);
      if (attempt >= 3)
        throw new Error(`${options.tool} did not start: ${(err as Error).message}\n${output}`);
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitUntilServing(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // Not listening yet.
    }
    // Polling a child process is the one wait a test cannot fake.
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`not serving after ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}
