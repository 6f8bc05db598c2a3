/**
 * A small file read at start and re-read while it changes: the htpasswd, groups and
 * public key files, which operators rotate (in Kubernetes, a Secret's files change by an
 * atomic swap of a symlink, which inode watches miss; a periodic read does not). A
 * change that fails to parse keeps the previous contents in use and is reported once.
 */
import { createHash } from 'node:crypto';
import type { Timers, TimerHandle } from '@kraken/foundation';
import { AuthConfigError } from '../errors.js';

export interface WatchedFile<T> {
  /** The contents as last loaded; only after start(). */
  current(): T;
  /** Loads the file (throwing AuthConfigError when it cannot) and starts watching it. */
  start(): Promise<void>;
  close(): void;
}

export interface WatchedFileOptions<T> {
  readonly path: string;
  /** Throws AuthConfigError for contents that cannot be used. */
  readonly parse: (text: string, path: string) => T;
  /** 0 reads the file only at start. */
  readonly intervalMs: number;
  readonly timers: Timers;
  readonly readFile: (path: string) => Promise<string>;
  /** Told of each reload: `undefined` when the new contents are in use, else why not. */
  readonly onReload?: (path: string, err: unknown) => void;
}

/** Far larger than any htpasswd, groups or key file of a registry. */
const MAX_FILE_CHARS = 8 * 1024 * 1024;

export function createWatchedFile<T>(options: WatchedFileOptions<T>): WatchedFile<T> {
  const { path } = options;
  let value: { contents: T } | undefined;
  /** Hash of the contents in use, and the last failure reported since. */
  let inUse = '';
  let failure: string | undefined;
  let timer: TimerHandle | undefined;
  let closed = false;

  const read = async (): Promise<{ text: string; hash: string }> => {
    let text: string;
    try {
      text = await options.readFile(path);
    } catch (err) {
      throw new AuthConfigError(`${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (text.length > MAX_FILE_CHARS) throw new AuthConfigError(`${path} is larger than 8 MiB`);
    return { text, hash: createHash('sha256').update(text).digest('hex') };
  };

  const poll = async () => {
    try {
      const file = await read();
      if (file.hash === inUse) return;
      value = { contents: options.parse(file.text, path) };
      inUse = file.hash;
      failure = undefined;
      options.onReload?.(path, undefined);
    } catch (err) {
      // Reported once per distinct failure, not at every poll while the file stays broken.
      const message = err instanceof Error ? err.message : String(err);
      if (message !== failure) options.onReload?.(path, err);
      failure = message;
    } finally {
      schedule();
    }
  };

  const schedule = () => {
    if (closed || options.intervalMs <= 0) return;
    timer = options.timers.setTimeout(() => void poll(), options.intervalMs);
  };

  return {
    current() {
      if (value === undefined) throw new Error(`${path} is read by start()`);
      return value.contents;
    },
    async start() {
      const file = await read();
      value = { contents: options.parse(file.text, path) };
      inUse = file.hash;
      schedule();
    },
    close() {
      closed = true;
      if (timer !== undefined) options.timers.clearTimeout(timer);
    },
  };
}
