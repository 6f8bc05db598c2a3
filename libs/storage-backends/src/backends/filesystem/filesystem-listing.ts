/**
 * Lexically ordered, paginated listing of a directory tree as object keys. Keys are
 * compared as whole strings, so a directory `a` sorts as "a/" against its siblings
 * ("a-b" < "a/c" because '-' < '/'); walking each directory in that order yields the
 * global key order without ever holding the whole tree in memory. Subtrees that lie
 * entirely before the continuation key or outside the prefix are never opened.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface WalkOptions {
  /** Absolute directory the keys are relative to. */
  readonly root: string;
  readonly prefix: string;
  /** Only keys strictly after this one. */
  readonly after: string | undefined;
  /** Top-level names that are not objects (e.g. the temp dir). */
  readonly hidden: ReadonlySet<string>;
}

/** Yields object keys (files) in lexical order. */
export async function* walkKeys(options: WalkOptions): AsyncGenerator<string> {
  yield* walkDir(options, options.root, '');
}

async function* walkDir(options: WalkOptions, dir: string, dirKey: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    // A directory removed while we walk it simply has no more keys.
    if (isMissing(err)) return;
    throw err;
  }
  const items = entries
    .filter((e) => (e.isDirectory() || e.isFile()) && !(dirKey === '' && options.hidden.has(e.name)))
    .map((e) => ({
      name: e.name,
      dir: e.isDirectory(),
      sortKey: `${dirKey}${e.name}${e.isDirectory() ? '/' : ''}`,
    }))
    .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
  for (const item of items) {
    if (item.dir) {
      if (!overlapsPrefix(item.sortKey, options.prefix)) continue;
      if (
        options.after !== undefined &&
        item.sortKey < options.after &&
        !options.after.startsWith(item.sortKey)
      )
        continue;
      yield* walkDir(options, join(dir, item.name), item.sortKey);
    } else {
      const key = item.sortKey;
      if (!key.startsWith(options.prefix)) continue;
      if (options.after !== undefined && key <= options.after) continue;
      yield key;
    }
  }
}

/** Whether some key under directory key `dirKey` (ending in '/') can start with `prefix`. */
function overlapsPrefix(dirKey: string, prefix: string): boolean {
  return dirKey.startsWith(prefix) || prefix.startsWith(dirKey);
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
