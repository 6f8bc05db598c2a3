/**
 * PEM files that follow the disk: read once at start, and again whenever they change, so
 * a rotated certificate applies without a restart. cert-manager and the kubelet rotate a
 * Secret volume by swapping a symlinked directory, so the directory of each file is
 * watched (fs.watch), and a periodic stat of every file (device, inode, size and times
 * of what the path points to) catches whatever a watch misses: network filesystems,
 * exhausted inotify watches, a watched directory that was itself replaced.
 *
 * A new set is taken only when every file reads and the set builds (a key that matches
 * its certificate); until then the previous set stays in use, so a rotation caught half
 * way is picked up on the next event or check. Errors name the config key and the file,
 * never what the file holds.
 */
import { readFileSync, statSync, watch, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { systemClock, type TimerHandle, type Timers } from '@kraken/foundation';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface PemFile {
  /** The config key naming the file, e.g. `certFile`. */
  readonly key: string;
  readonly path: string;
  readonly kind: 'certificate' | 'private key';
}

/** The contents of a set, by config key. */
export type PemContents = Readonly<Record<string, Buffer>>;

/** Calls `onChange` after something in `dir` changed; returns the means to stop. */
export type DirectoryWatch = (dir: string, onChange: () => void) => { close(): void };

export interface PemFileDeps {
  /** Timers of the periodic check and of the settling delay after a change event. */
  readonly timers?: Timers;
  /** Watches a directory; default fs.watch. Tests pass a no-op to exercise the periodic check. */
  readonly watchDirectory?: DirectoryWatch;
  readonly logger?: Pick<Logger, 'info' | 'warn'>;
}

export interface PemFilesOptions<T> {
  /** Where the files are configured, for errors and logs: `tls.server`. */
  readonly label: string;
  readonly files: readonly PemFile[];
  /** Builds what the set is used as; throws when the files do not go together. */
  readonly build: (contents: PemContents) => T;
  readonly reloadIntervalMs: number;
}

export interface WatchedPemFiles<T> {
  /** What the set read last built. */
  current(): T;
  /** Checks the files now; true when they changed and the new set was taken. */
  check(): Promise<boolean>;
  /** Called with each new set after it is taken; returns the means to stop. */
  onReload(listener: (value: T) => void): () => void;
  /** Stops watching; idempotent. */
  close(): void;
}

/** Certificates, keys and CA bundles are a few KiB; anything larger is not one. */
const MAX_PEM_BYTES = 1024 * 1024;
/** A rotation writes several entries; check once they have settled. */
const SETTLE_MS = 100;

const fsWatchDirectory: DirectoryWatch = (dir, onChange) => {
  try {
    const watcher = watch(dir, { persistent: false }, () => onChange());
    // A watch that fails (the directory went away) leaves the periodic check in charge.
    watcher.on('error', () => watcher.close());
    return { close: () => watcher.close() };
  } catch {
    return { close() {} };
  }
};

/**
 * Reads the files and builds the set now (throwing a ConfigError naming the file at
 * fault), then follows them until `close()`.
 */
export function watchPemFiles<T>(options: PemFilesOptions<T>, deps: PemFileDeps = {}): WatchedPemFiles<T> {
  const { label, files } = options;
  const timers = deps.timers ?? systemClock;
  const listeners = new Set<(value: T) => void>();
  const describe = (file: PemFile) => `${label}.${file.key} "${file.path}"`;

  let value = buildSet(
    options,
    files.map((file) => readNow(file, describe(file))),
  );
  let signatures = files.map((file) => signatureNow(file.path));
  let failedSignatures: string | undefined;
  let checking: Promise<boolean> | undefined;
  let closed = false;
  let settleTimer: TimerHandle | undefined;
  let pollTimer: TimerHandle | undefined;

  const check = async (): Promise<boolean> => {
    const next = await Promise.all(files.map((file) => stat(file.path).then(signatureOf, () => 'missing')));
    if (closed || next.every((signature, i) => signature === signatures[i])) return false;
    let built: T;
    try {
      const contents = await Promise.all(files.map((file) => readLater(file, describe(file))));
      built = buildSet(options, contents);
    } catch (err) {
      // Said once per state of the files, not on every check while it lasts.
      const key = next.join('|');
      if (failedSignatures !== key) {
        failedSignatures = key;
        deps.logger?.warn(
          { reason: (err as Error).message },
          `${label}: changed files cannot be used yet; the previous ones stay`,
        );
      }
      return false;
    }
    if (closed) return false;
    signatures = next;
    failedSignatures = undefined;
    value = built;
    deps.logger?.info({ files: files.map((file) => file.path) }, `${label}: files reloaded`);
    for (const listener of listeners) {
      try {
        listener(built);
      } catch (err) {
        deps.logger?.warn({ reason: (err as Error).message }, `${label}: applying reloaded files failed`);
      }
    }
    return true;
  };

  const checkOnce = (): Promise<boolean> => {
    checking ??= check().finally(() => {
      checking = undefined;
    });
    return checking;
  };

  const poll = () => {
    pollTimer = timers.setTimeout(() => {
      void checkOnce().finally(() => {
        if (!closed) poll();
      });
    }, options.reloadIntervalMs);
  };
  const onEvent = () => {
    if (closed || settleTimer !== undefined) return;
    settleTimer = timers.setTimeout(() => {
      settleTimer = undefined;
      void checkOnce();
    }, SETTLE_MS);
  };
  const watchDirectory = deps.watchDirectory ?? fsWatchDirectory;
  const watchers = [...new Set(files.map((file) => dirname(file.path)))].map((dir) =>
    watchDirectory(dir, onEvent),
  );
  poll();

  return {
    current: () => value,
    check: checkOnce,
    onReload(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      if (pollTimer !== undefined) timers.clearTimeout(pollTimer);
      if (settleTimer !== undefined) timers.clearTimeout(settleTimer);
      for (const watcher of watchers) watcher.close();
    },
  };
}

function buildSet<T>(options: PemFilesOptions<T>, contents: readonly Buffer[]): T {
  const byKey: Record<string, Buffer> = {};
  options.files.forEach((file, i) => {
    byKey[file.key] = contents[i]!;
  });
  try {
    return options.build(byKey);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // OpenSSL's reasons ("key values mismatch") say what is wrong, not what the files hold.
    const names = options.files.map((file) => `${file.key} "${file.path}"`).join(', ');
    throw new ConfigError(`${options.label}: ${names} cannot be used together (${reasonOf(err)})`);
  }
}

function readNow(file: PemFile, what: string): Buffer {
  let size: number;
  let text: Buffer;
  try {
    size = statSync(file.path).size;
    text = size > MAX_PEM_BYTES ? Buffer.alloc(0) : readFileSync(file.path);
  } catch (err) {
    throw new ConfigError(`${what} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return checked(file, what, size, text);
}

async function readLater(file: PemFile, what: string): Promise<Buffer> {
  let size: number;
  let text: Buffer;
  try {
    size = (await stat(file.path)).size;
    text = size > MAX_PEM_BYTES ? Buffer.alloc(0) : await readFile(file.path);
  } catch (err) {
    throw new ConfigError(`${what} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return checked(file, what, size, text);
}

function checked(file: PemFile, what: string, size: number, text: Buffer): Buffer {
  if (size > MAX_PEM_BYTES) throw new ConfigError(`${what} is larger than 1 MiB`);
  const pem = text.toString('latin1');
  if (file.kind === 'certificate') {
    if (!pem.includes('-----BEGIN CERTIFICATE-----'))
      throw new ConfigError(`${what} holds no PEM certificate`);
  } else {
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
      throw new ConfigError(`${what} holds an encrypted private key; an unencrypted one is needed`);
    }
    if (!/-----BEGIN (?:RSA |EC )?PRIVATE KEY-----/.test(pem)) {
      throw new ConfigError(`${what} holds no PEM private key`);
    }
  }
  return text;
}

function signatureNow(path: string): string {
  try {
    return signatureOf(statSync(path));
  } catch {
    return 'missing';
  }
}

/** What changes when a file, or the target of a symlink to it, is replaced or rewritten. */
function signatureOf(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // OpenSSL prefixes its reasons with "error:<code>:<library> routines::".
  return message.replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/, '').trim() || 'invalid';
}
