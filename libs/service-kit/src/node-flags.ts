/**
 * Flags a binary needs from the very start of its process. Some V8 settings are fixed when
 * the isolate is created (the young generation's size) or read where a flag set later is
 * not seen (WebAssembly tiering), and neither the kraken front nor the container image nor
 * the devcluster passes node flags. So the binary re-executes itself once with them, before
 * it loads anything: process.execve replaces the process image and keeps the pid, so a
 * supervisor (kubelet, the devcluster, a shell) still sees the one process it started.
 *
 * Flags the operator gives win: a flag whose name is already on the command line or in
 * NODE_OPTIONS (with any value, or negated) is not added. Its own entry
 * (`@kraken/service-kit/node-flags`), importing only node:process, as node-version.ts.
 */
import process from 'node:process';

/** What this reads of the process, and process.execve (absent where Node.js lacks it: Windows). */
export type NodeFlagsProcess = Pick<NodeJS.Process, 'execPath' | 'execArgv' | 'argv' | 'env' | 'execve'>;

/** `--max_semi_space_size=1`, `--no-liftoff-only` → `max-semi-space-size`, `liftoff-only`. */
export function nodeFlagName(flag: string): string {
  const bare = flag.replace(/^--?/, '').split('=', 1)[0]!.replaceAll('_', '-');
  return bare.startsWith('no-') ? bare.slice(3) : bare;
}

/** The flags of `wanted` whose name the process was not already given. */
export function missingNodeFlags(
  wanted: readonly string[],
  given: { readonly execArgv: readonly string[]; readonly nodeOptions?: string | undefined },
): string[] {
  const fromOptions = (given.nodeOptions ?? '').split(/\s+/).filter((f) => f.startsWith('-'));
  const names = new Set([...given.execArgv, ...fromOptions].map(nodeFlagName));
  return wanted.filter((flag) => !names.has(nodeFlagName(flag)));
}

/**
 * Set in the environment of the relaunched process, and removed by it at once: one relaunch
 * at most, even should a flag not show in process.execArgv.
 */
export const RELAUNCHED_ENV = 'NODE_FLAGS_SET_BY_KRAKEN';

/**
 * Re-executes this process with the flags of `wanted` it lacks, after its own node flags and
 * before its script. Returns false, and does nothing, when none is missing, when this process
 * is the relaunched one, or when the platform cannot replace a process; it never returns
 * otherwise.
 */
export function relaunchWithNodeFlags(wanted: readonly string[], proc: NodeFlagsProcess = process): boolean {
  if (proc.env[RELAUNCHED_ENV] !== undefined) {
    delete proc.env[RELAUNCHED_ENV];
    return false;
  }
  const missing = missingNodeFlags(wanted, { execArgv: proc.execArgv, nodeOptions: proc.env.NODE_OPTIONS });
  if (missing.length === 0 || typeof proc.execve !== 'function') return false;
  const args = [proc.execPath, ...proc.execArgv, ...missing, ...proc.argv.slice(1)];
  proc.execve(proc.execPath, args, { ...proc.env, [RELAUNCHED_ENV]: '1' });
  return true;
}
