/**
 * One control-plane program as a child process: the leader of a process group of its own,
 * writing stdout and stderr straight into a log file. Stopping it signals the whole group.
 * Groups still running when the test process exits (or is interrupted) are killed then, so
 * that a crashed test leaves no apiserver behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface ComponentProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** How it ended, once it has. */
  exitStatus(): string | undefined;
  /** The last `lines` lines of its log. */
  logTail(lines?: number): Promise<string>;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the leader is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface ComponentOptions {
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly env?: Record<string, string>;
}

export function startComponent(options: ComponentOptions): ComponentProcess {
  const log = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(options.binary, options.args, {
      stdio: ['ignore', log, log],
      detached: true,
      env: { ...process.env, ...options.env },
    });
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(log);
  }
  let status: string | undefined;
  // A failed spawn (ENOENT, EACCES) emits 'error' on the next tick, and no 'exit'.
  child.once('error', (err) => {
    status = `spawn error: ${err.message}`;
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name}: could not spawn ${options.binary}`);
  live.add(pid);
  watchTestProcess();
  const exited = new Promise<void>((done) => {
    child.once('exit', (code, signal) => {
      status = signal === null ? `exit code ${code}` : `signal ${signal}`;
      live.delete(pid);
      done();
    });
  });

  let stopped: Promise<void> | undefined;
  return {
    name: options.name,
    pid,
    logFile: options.logFile,
    exitStatus: () => status,
    logTail: async (lines = 40) => {
      const text = await readFile(options.logFile, 'utf8').catch(() => '');
      return text.trimEnd().split('\n').slice(-lines).join('\n');
    },
    stop: (graceMs = 3000) =>
      (stopped ??= (async () => {
        if (status === undefined) {
          signalGroup(pid, 'SIGTERM');
          const kill = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
          await exited;
          clearTimeout(kill);
        }
        // Anything the leader left behind in its group.
        signalGroup(pid, 'SIGKILL');
      })()),
  };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** Leaders of the groups started by this process and not yet exited. */
const live = new Set<number>();
let watching = false;

function killAll(): void {
  for (const pid of live) signalGroup(pid, 'SIGKILL');
  live.clear();
}

/**
 * On exit, and on the signals that end a test run early. A signal listener replaces Node's
 * default of dying, so when no one else listens the signal is raised again once ours is gone.
 */
function watchTestProcess(): void {
  if (watching) return;
  watching = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAll();
      process.removeListener(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
