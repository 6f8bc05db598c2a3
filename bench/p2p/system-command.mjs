// Synchronous `ip`/`tc` invocations. Synchronous on purpose: teardown also runs from process
// 'exit' handlers, where nothing asynchronous completes, and setup is a few hundred short calls.
import { execFileSync } from 'node:child_process';

/** Runs `command args` and returns its stdout; a failure carries the command line and its stderr. */
export function run(command, args) {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const stderr = err.stderr ? String(err.stderr).trim() : err.message;
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr}`, { cause: err });
  }
}
