/**
 * Runs an image from an OCI image layout the way a container runtime does: `umoci unpack`
 * makes a runtime bundle (rootfs and config.json from the image config), Debian's runc
 * runs it on the host network, with the process arguments and bind mounts of each run.
 * Needs root, as runc without a rootless setup does.
 */
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Bundle {
  dir: string;
  /** The process of the image config: args (entrypoint and cmd), user, env, cwd. */
  process: { args: string[]; user: { uid: number; gid: number }; env: string[]; cwd: string };
  /** Starts a container; containers of one bundle run one at a time (each run rewrites config.json). */
  run(options: RunOptions): Container;
  /** Deletes every container started from this bundle, then the bundle. Idempotent. */
  remove(): Promise<void>;
}

export interface RunOptions {
  args: string[];
  cwd?: string;
  /** Read-only bind mounts, host path → container path. */
  mounts?: Record<string, string>;
}

export interface Container {
  id: string;
  /** Resolves when runc returns: the container's exit code and output. */
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
  kill(signal: 'TERM' | 'KILL'): Promise<void>;
}

export async function unpackBundle(layout: string, tag: string, dir: string): Promise<Bundle> {
  await run('umoci', ['unpack', '--image', `${layout}:${tag}`, dir], { maxBuffer: 16 * 1024 * 1024 });
  const spec = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Spec;
  const started: string[] = [];
  return {
    dir,
    process: spec.process,
    run: (options) => {
      const id = `kraken-image-e2e-${process.pid}-${started.length + 1}`;
      started.push(id);
      return startContainer(dir, spec, id, options);
    },
    remove: async () => {
      for (const id of started.splice(0)) await run('runc', ['delete', '--force', id]).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

interface Spec {
  process: Bundle['process'] & { terminal: boolean };
  mounts: { destination: string; type: string; source: string; options: string[] }[];
  linux: { namespaces: { type: string }[] };
}

function startContainer(dir: string, spec: Spec, id: string, options: RunOptions): Container {
  const config: Spec = {
    ...spec,
    process: { ...spec.process, terminal: false, args: options.args, cwd: options.cwd ?? spec.process.cwd },
    mounts: [
      ...spec.mounts,
      ...Object.entries(options.mounts ?? {}).map(([source, destination]) => ({
        destination,
        type: 'bind',
        source,
        options: ['rbind', 'ro'],
      })),
    ],
    // The host network, as `ctr run --net-host` and a host-network pod have it.
    linux: { ...spec.linux, namespaces: spec.linux.namespaces.filter((ns) => ns.type !== 'network') },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const child = spawn('runc', ['run', '--bundle', dir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return {
    id,
    exited,
    kill: async (signal) => {
      await run('runc', ['kill', id, signal]);
    },
  };
}
