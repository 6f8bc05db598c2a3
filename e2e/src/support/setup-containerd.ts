/**
 * `kraken agent setup-containerd` as an operator runs it: the built agent CLI
 * (`apps/agent/dist/main.js`) writing hosts.toml files into a test containerd's hosts
 * directory and checking its config.toml. Tests whose registry stands in for a public
 * one (docker.io) then point the file's `server` at the stand-in.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Containerd } from './containerd.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const AGENT_MAIN = join(REPO, 'apps/agent/dist/main.js');

export interface SetupContainerdResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs setup-containerd against `containerd`'s hosts directory and config.toml, with
 * `mirror` first for each of `registries`; `args` are further flags (`--remove`, `--dry-run`).
 * Resolves with the exit code rather than rejecting, so tests can check failures too.
 */
export function runSetupContainerd(options: {
  containerd: Pick<Containerd, 'certsDir' | 'configToml'>;
  mirror: string;
  registries: readonly string[];
  args?: readonly string[];
}): Promise<SetupContainerdResult> {
  const args = [
    AGENT_MAIN,
    'setup-containerd',
    '--config-path',
    options.containerd.certsDir,
    '--containerd-config',
    options.containerd.configToml,
    '--mirror',
    options.mirror,
    '--registries',
    options.registries.join(','),
    ...(options.args ?? []),
  ];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: REPO, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `<certsDir>/<registry>/hosts.toml` */
export function hostsTomlPath(certsDir: string, registry: string): string {
  return join(certsDir, registry, 'hosts.toml');
}

/**
 * Replaces the `server` line of a registry's hosts.toml (say, docker.io's
 * `https://registry-1.docker.io`) with `url`, leaving every other line as written;
 * returns the line it replaced.
 */
export async function pointServerAt(options: {
  certsDir: string;
  registry: string;
  url: string;
}): Promise<string> {
  const file = hostsTomlPath(options.certsDir, options.registry);
  const text = await readFile(file, 'utf8');
  const line = /^server = .*$/m.exec(text)?.[0];
  if (line === undefined) throw new Error(`${file} has no server line:\n${text}`);
  await writeFile(file, text.replace(line, `server = ${JSON.stringify(options.url)}`));
  return line;
}
