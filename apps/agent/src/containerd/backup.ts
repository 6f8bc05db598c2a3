/**
 * Installing and removing our hosts.toml in a registry directory without losing what was
 * there: the first install keeps the previous file as `hosts.toml.kraken-backup` (never
 * overwritten later), `--remove` puts it back or deletes our file, and directories we
 * created (marked with `.kraken-created`) go again once nothing else is in them.
 *
 * Work is planned first, as a list of actions, then applied; an empty plan means that
 * nothing changes, and a dry run prints the plan. Every file is written atomically
 * (temporary file, fsync, rename), so containerd, which reads hosts.toml on each pull,
 * never sees half a file.
 */
import { copyFile, mkdir, open, readFile, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isOurHostsToml } from './hosts-toml.js';

export const HOSTS_TOML = 'hosts.toml';
export const BACKUP_SUFFIX = '.kraken-backup';
/** Marks a directory this command created, so `--remove` may delete it. */
export const CREATED_MARKER = '.kraken-created';

export type HostsAction =
  | { readonly kind: 'create-dir'; readonly dir: string }
  | { readonly kind: 'backup'; readonly file: string; readonly backup: string }
  | { readonly kind: 'write'; readonly file: string; readonly content: string }
  | { readonly kind: 'restore'; readonly file: string; readonly backup: string }
  | { readonly kind: 'delete'; readonly file: string }
  | { readonly kind: 'remove-dir'; readonly dir: string };

export function describeAction(action: HostsAction): string {
  switch (action.kind) {
    case 'create-dir':
      return `create ${action.dir}/`;
    case 'backup':
      return `back up ${action.file} to ${action.backup}`;
    case 'write':
      return `write ${action.file}`;
    case 'restore':
      return `restore ${action.file} from ${action.backup}`;
    case 'delete':
      return `delete ${action.file}`;
    case 'remove-dir':
      return `remove ${action.dir}/`;
  }
}

/** Creates (and marks) the config_path directory when it is missing. */
export async function planConfigDir(dir: string): Promise<HostsAction[]> {
  return (await listDir(dir)) === undefined ? [{ kind: 'create-dir', dir }] : [];
}

/** The actions that make `dir/hosts.toml` hold `content`; none when it already does. */
export async function planInstall(dir: string, content: string): Promise<HostsAction[]> {
  const file = join(dir, HOSTS_TOML);
  const backup = file + BACKUP_SUFFIX;
  const entries = await listDir(dir);
  if (entries === undefined)
    return [
      { kind: 'create-dir', dir },
      { kind: 'write', file, content },
    ];
  const current = entries.has(HOSTS_TOML) ? await readText(file) : undefined;
  if (current === content) return [];
  const actions: HostsAction[] = [];
  if (current !== undefined && !isOurHostsToml(current) && !entries.has(HOSTS_TOML + BACKUP_SUFFIX)) {
    actions.push({ kind: 'backup', file, backup });
  }
  actions.push({ kind: 'write', file, content });
  return actions;
}

export interface RemovePlan {
  readonly actions: HostsAction[];
  /** True when the plan removes `dir` itself. */
  readonly removesDir: boolean;
}

/**
 * The actions that undo planInstall in `dir`. A hosts.toml that is not ours and has no
 * backup was never touched by us (or was replaced by someone since), so it stays.
 * `gone` lists subdirectories that earlier plans remove, for the config_path root.
 */
export async function planRemove(dir: string, gone: ReadonlySet<string> = new Set()): Promise<RemovePlan> {
  const entries = await listDir(dir);
  if (entries === undefined) return { actions: [], removesDir: false };
  const file = join(dir, HOSTS_TOML);
  const backup = file + BACKUP_SUFFIX;
  const actions: HostsAction[] = [];
  const remaining = new Set([...entries].filter((name) => !gone.has(name)));
  if (entries.has(HOSTS_TOML + BACKUP_SUFFIX)) {
    actions.push({ kind: 'restore', file, backup });
    remaining.delete(HOSTS_TOML + BACKUP_SUFFIX);
    remaining.add(HOSTS_TOML);
  } else if (entries.has(HOSTS_TOML) && isOurHostsToml(await readText(file))) {
    actions.push({ kind: 'delete', file });
    remaining.delete(HOSTS_TOML);
  }
  const removesDir = entries.has(CREATED_MARKER) && remaining.size === 1;
  if (removesDir) actions.push({ kind: 'remove-dir', dir });
  return { actions, removesDir };
}

export async function applyAction(action: HostsAction): Promise<void> {
  switch (action.kind) {
    case 'create-dir':
      await mkdir(action.dir, { recursive: true, mode: 0o755 });
      await writeAtomic(join(action.dir, CREATED_MARKER), '');
      return;
    case 'backup': {
      const tmp = tempName(action.backup);
      await copyFile(action.file, tmp);
      await rename(tmp, action.backup);
      return;
    }
    case 'write':
      await writeAtomic(action.file, action.content);
      return;
    case 'restore':
      await rename(action.backup, action.file);
      return;
    case 'delete':
      await rm(action.file, { force: true });
      return;
    case 'remove-dir':
      await rm(join(action.dir, CREATED_MARKER), { force: true });
      await rmdir(action.dir);
      return;
  }
}

async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = tempName(file);
  try {
    const handle = await open(tmp, 'w', 0o644);
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

function tempName(file: string): string {
  return `${file}.kraken-tmp-${process.pid}`;
}

async function listDir(dir: string): Promise<Set<string> | undefined> {
  try {
    return new Set(await readdir(dir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function readText(file: string): Promise<string> {
  return readFile(file, 'utf8');
}
