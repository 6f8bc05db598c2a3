/**
 * kubectl, the pinned build, against one kubeconfig. A run resolves with its exit code
 * rather than rejecting, because tests assert refusals (RBAC's Forbidden) as often as
 * successes; `json` is the strict variant for reads.
 */
import { spawn } from 'node:child_process';
import { kubeBinary } from './binaries.js';

export interface KubectlResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit code; -1 when killed (on timeout). */
  readonly code: number;
}

export interface KubectlOptions {
  /** Another kubeconfig than the admin's: a service account's, a user's. */
  readonly kubeconfig?: string;
  /** Written to stdin (`apply -f -`). */
  readonly input?: string;
  /** Default 30 s. */
  readonly timeoutMs?: number;
}

export interface Kubectl {
  run(args: readonly string[], options?: KubectlOptions): Promise<KubectlResult>;
  /** `kubectl <args> -o json`, parsed; rejects with kubectl's stderr on a non-zero exit. */
  json<T>(args: readonly string[], options?: KubectlOptions): Promise<T>;
}

/**
 * kubectl with `kubeconfig` unless told otherwise, and a discovery cache in `cacheDir`: the
 * user's ~/.kube/cache is keyed by host and port, and a port is reused by later test runs
 * whose clusters serve other resources.
 */
export function createKubectl(defaults: { kubeconfig: string; cacheDir: string }): Kubectl {
  const run = (args: readonly string[], options: KubectlOptions = {}) =>
    runKubectl(
      ['--kubeconfig', options.kubeconfig ?? defaults.kubeconfig, '--cache-dir', defaults.cacheDir, ...args],
      options,
    );
  return {
    run,
    async json<T>(args: readonly string[], options: KubectlOptions = {}): Promise<T> {
      const result = await run([...args, '-o', 'json'], options);
      if (result.code !== 0) throw new KubectlError(args, result);
      return JSON.parse(result.stdout) as T;
    },
  };
}

function runKubectl(args: readonly string[], options: KubectlOptions): Promise<KubectlResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(kubeBinary('kubectl'), args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: timeoutMs,
      // --kubeconfig already wins over KUBECONFIG; cleared, the user's clusters are out of reach.
      env: { ...process.env, KUBECONFIG: '' },
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', reject);
    child.once('close', (code, signal) =>
      resolve({
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr:
          Buffer.concat(stderr).toString('utf8') +
          (signal === null ? '' : `\nkubectl killed by ${signal} (timeout ${timeoutMs} ms)`),
        code: code ?? -1,
      }),
    );
    // kubectl may exit before reading its input (a usage error): not an error of ours.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

export class KubectlError extends Error {
  readonly result: KubectlResult;
  constructor(args: readonly string[], result: KubectlResult) {
    super(`kubectl ${args.join(' ')} exited with ${result.code}: ${result.stderr.trim() || result.stdout}`);
    this.name = 'KubectlError';
    this.result = result;
  }
}
