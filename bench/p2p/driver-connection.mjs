// The bench's side of a host driver (host-driver.mjs): starts it inside a host's namespace and
// turns its line protocol into promises. A driver that exits fails every call still waiting.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

const DRIVER = new URL('./host-driver.mjs', import.meta.url).pathname;

/**
 * Starts a driver in `host.ns`; its stderr goes to `logFile`. Returns
 * { host, pid, call(op, args) → Promise<result>, close() → Promise<void> }.
 */
export function startDriver({ host, logFile }) {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn('ip', ['netns', 'exec', host.ns, process.execPath, DRIVER], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stderr.pipe(log);
  // A write to a driver that just died fails through `exited` below, not as an unhandled EPIPE.
  child.stdin.on('error', () => {});
  const pending = new Map();
  let nextId = 1;
  let exitError;

  const exited = new Promise((resolve) => {
    const done = (why) => {
      exitError = new Error(`driver in ${host.ns} ${why}`);
      for (const { reject } of pending.values()) reject(exitError);
      pending.clear();
      resolve();
    };
    child.once('exit', (code, signal) => done(`exited (${code ?? signal})`));
    child.once('error', (err) => done(`failed to start: ${err.message}`));
  });

  createInterface({ input: child.stdout }).on('line', (line) => {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      log.write(`unparsed driver output: ${line}\n`);
      return;
    }
    const waiter = pending.get(message.id);
    if (waiter === undefined) return;
    pending.delete(message.id);
    if (message.ok) {
      waiter.resolve(message.result);
      return;
    }
    const error = new Error(`${host.name}: ${waiter.op}: ${message.error}`);
    // What the driver knows of the failure beyond its message (a pull's progress).
    if (message.detail !== undefined) error.detail = message.detail;
    waiter.reject(error);
  });

  return {
    host,
    // `ip netns exec` execs the command in place, so this is the driver's own pid.
    pid: child.pid,
    call(op, args = {}) {
      if (exitError !== undefined) return Promise.reject(exitError);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, op });
        child.stdin.write(`${JSON.stringify({ id, op, ...args })}\n`);
      });
    },
    async close() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
      log.end();
    },
  };
}
