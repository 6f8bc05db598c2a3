/**
 * The operator as a process (`node apps/operator/dist/main.js --config <file>`), as it
 * runs out of cluster: its own kubeconfig, its own config file, /metrics on a free port.
 * Each runs in a process group of its own, killed when the test process exits, so that a
 * failed test leaves no operator writing to a later test's control plane.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { metricSum } from '../prometheus-text.js';

const ROOT = join(import.meta.dirname, '../../../..');
const MAIN = join(ROOT, 'apps/operator/dist/main.js');

export interface OperatorProcess {
  readonly name: string;
  readonly url: string;
  readonly proc: ChildProcess;
  /** Everything it logged so far. */
  log(): string;
  /** A counter or gauge of its /metrics, summed over the series matching `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** SIGTERM, then waits for the exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no lease release, no cleanup. */
  kill(): Promise<void>;
}

export async function startOperator(options: {
  readonly name: string;
  readonly dir: string;
  readonly kubeconfig: string;
  /** Config keys over `listen` (a free port) and `kubernetes.kubeconfig`. */
  readonly config?: Record<string, unknown>;
}): Promise<OperatorProcess> {
  const configFile = join(options.dir, `${options.name}.yaml`);
  await writeFile(
    configFile,
    stringify({
      listen: { host: '127.0.0.1', port: 0 },
      kubernetes: { kubeconfig: options.kubeconfig },
      ...options.config,
    }),
  );
  const proc = spawn(process.execPath, [MAIN, '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = proc.pid;
  if (pid === undefined) throw new Error(`operator ${options.name}: could not spawn ${MAIN}`);
  live.add(pid);
  killLiveOnExit();
  let log = '';
  proc.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      live.delete(pid);
      resolve(code);
    }),
  );
  const running = () => proc.exitCode === null && proc.signalCode === null;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`operator ${options.name} did not listen:\n${log}`)),
      30_000,
    );
    const poll = setInterval(() => {
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(log);
      if (match?.[1] !== undefined) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(match[1]);
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`operator ${options.name} exited (${code}):\n${log}`));
    });
  }).catch(async (err: unknown) => {
    if (running()) proc.kill('SIGKILL');
    await exited;
    throw err;
  });
  return {
    name: options.name,
    url,
    proc,
    log: () => log,
    metric: (name, labels = {}) => metricSum(url, name, labels),
    async stop() {
      if (running()) proc.kill('SIGTERM');
      const timer = setTimeout(() => running() && proc.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (running()) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** Operators started by this process and not yet exited. */
const live = new Set<number>();
let watching = false;

function killLiveOnExit(): void {
  if (watching) return;
  watching = true;
  process.once('exit', () => {
    for (const pid of live) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // ESRCH: gone already.
      }
    }
  });
}
