// Owns every process the benchmark starts, so that each one is stopped on any way out: normal
// completion, an error, SIGINT/SIGTERM, or an exit the code did not plan for.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

const running = new Set();

/** Spawns `command args`, logging stdout and stderr to `logFile`; returns { name, child, logFile, exited, stop }. */
export function startProcess({ name, command, args, logFile, cwd, env }) {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => resolve({ code: null, signal: null, error: err }));
  });
  const handle = {
    name,
    child,
    logFile,
    exited,
    async stop(timeoutMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      running.delete(handle);
      log.end();
    },
  };
  running.add(handle);
  exited.then(() => running.delete(handle));
  return handle;
}

/** Stops every process still running, in reverse start order (clients before their upstreams). */
export async function stopAll() {
  await Promise.all([...running].reverse().map((p) => p.stop()));
}

// Last resort: 'exit' handlers must be synchronous, so SIGKILL whatever is left.
process.on('exit', () => {
  for (const p of running) p.child.kill('SIGKILL');
});
