/**
 * The files a peer proves its membership with (the TLS certificate, key and CA, or the
 * cluster token): read at start, and read again when they change, so that a rotated
 * Secret applies to the next connection without a restart. Every new connection asks
 * `current()`, which compares a signature of each file (device, inode, size and times of
 * what the path points to: what a rewrite, a rename over it or a Secret volume's symlink
 * swap changes) with the one loaded last, and reads and builds the set again only when
 * one differs. The signature is injectable.
 *
 * A set that does not build (a key that does not match its certificate, a rotation caught
 * half way) leaves the previous one in use and is reported once per state of the files.
 * Errors and logs name the config key and the path, never what a file holds.
 */
import { readFile, stat } from 'node:fs/promises';
import { ConfigError } from '@kraken/service-kit';

/** Membership files are a few KiB; anything larger is not one. */
const MAX_FILE_BYTES = 1024 * 1024;

export interface ReloadedFile {
  /** The config key naming the file, e.g. `certFile`. */
  readonly key: string;
  readonly path: string;
}

/** What changes when the file is rewritten or replaced; 'missing' when it cannot be read. */
export type FileSignature = (path: string) => Promise<string>;

export interface ReloadingFilesOptions<T> {
  /** Where the files are configured, for errors and logs: `p2p.tls`. */
  readonly label: string;
  readonly files: readonly ReloadedFile[];
  /** Builds the set from the contents by config key; throws when they do not go together. */
  readonly build: (contents: Readonly<Record<string, Buffer>>) => T;
  readonly signature?: FileSignature | undefined;
  readonly logger?:
    { info(obj: object, msg: string): void; warn(obj: object, msg: string): void } | undefined;
}

export interface ReloadingFiles<T> {
  /** Reads and builds the set now; a ConfigError names the file at fault. */
  load(): Promise<T>;
  /** The set for a new connection, read again first when a file changed since. */
  current(): Promise<T>;
}

export const statSignature: FileSignature = async (path) => {
  try {
    const s = await stat(path);
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch {
    return 'missing';
  }
};

export function createReloadingFiles<T>(options: ReloadingFilesOptions<T>): ReloadingFiles<T> {
  const { label, files } = options;
  const signatureOf = options.signature ?? statSignature;
  let loaded: { value: T; signatures: string } | undefined;
  let failedSignatures: string | undefined;
  let checking: Promise<T> | undefined;

  async function read(): Promise<T> {
    const contents: Record<string, Buffer> = {};
    for (const file of files) contents[file.key] = await readBounded(label, file);
    try {
      return options.build(contents);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      const names = files.map((file) => `${file.key} "${file.path}"`).join(', ');
      throw new ConfigError(`${label}: ${names} cannot be used (${reasonOf(err)})`);
    }
  }

  async function signatures(): Promise<string> {
    return (await Promise.all(files.map((file) => signatureOf(file.path)))).join('|');
  }

  async function check(): Promise<T> {
    const before = await signatures();
    if (loaded === undefined) {
      loaded = { value: await read(), signatures: before };
      return loaded.value;
    }
    if (before === loaded.signatures) return loaded.value;
    try {
      const value = await read();
      loaded = { value, signatures: before };
      failedSignatures = undefined;
      options.logger?.info({ files: files.map((file) => file.path) }, `${label}: files reloaded`);
    } catch (err) {
      if (failedSignatures !== before) {
        failedSignatures = before;
        options.logger?.warn(
          { reason: (err as Error).message },
          `${label}: changed files cannot be used yet; the previous ones stay`,
        );
      }
    }
    return loaded.value;
  }

  function checkOnce(): Promise<T> {
    checking ??= check().finally(() => {
      checking = undefined;
    });
    return checking;
  }

  return { load: checkOnce, current: checkOnce };
}

async function readBounded(label: string, file: ReloadedFile): Promise<Buffer> {
  const what = `${label}.${file.key} "${file.path}"`;
  try {
    const { size } = await stat(file.path);
    if (size > MAX_FILE_BYTES) throw new ConfigError(`${what} is larger than 1 MiB`);
    return await readFile(file.path);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${what} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // OpenSSL prefixes its reasons with "error:<code>:<library> routines::".
  return message.replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/, '').trim() || 'invalid';
}
