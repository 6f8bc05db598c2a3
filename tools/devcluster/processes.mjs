// Child-process supervision for the devcluster and multi-process tests: start a
// component binary, capture its logs to a file, wait for readiness, stop it cleanly.
import { fetch } from 'undici';
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Starts `node apps/<app>/dist/main.js --config <file>`; logs go to `logFile`.
 * Returns { name, child, url, stop(signal), exited }.
 */
export function startComponent({ name, app, configFile, url, logFile, cwd, env, dispatcher }) {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [`apps/${app}/dist/main.js`, '--config', configFile], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => log.end());
  return {
    name,
    app,
    url,
    dispatcher,
    child,
    logFile,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** Polls `<url>/readiness` until it answers 200, the process exits, or the deadline passes. */
export async function waitReady(component, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (component.child.exitCode !== null) {
      throw new Error(
        `${component.name} exited with code ${component.child.exitCode}; see ${component.logFile}`,
      );
    }
    try {
      // A secure cluster's components need the cluster CA and a client certificate.
      const res = await fetch(`${component.url}/readiness`, {
        signal: AbortSignal.timeout(2000),
        ...(component.dispatcher === undefined ? {} : { dispatcher: component.dispatcher }),
      });
      if (res.status === 200) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = err.message;
    }
    await sleep(100);
  }
  throw new Error(`${component.name} not ready after ${timeoutMs} ms (${last}); see ${component.logFile}`);
}
