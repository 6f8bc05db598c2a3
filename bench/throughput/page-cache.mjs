// The page cache both runs start from. The product's run follows a push that wrote the blob
// three times (proxy, origin cache, storage backend), the floor's does not, and writing into
// a page cache that must first evict costs more kernel time than writing into free memory.
// So before each run's pulls: dirty pages are written back, the page cache is dropped (as
// root; `--keep-caches` skips it), and the file the run's origin serves is read once, so that
// both origins start with the blob in memory and both sets of agents write into free memory.
import { execFileSync } from 'node:child_process';
import { createReadStream, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';

/** Flushes, drops the page cache when allowed, then reads `warm` into it. Returns what was done. */
export async function resetPageCache({ drop, warm }) {
  execFileSync('sync');
  let dropped = false;
  if (drop && process.getuid?.() === 0) {
    writeFileSync('/proc/sys/vm/drop_caches', '1');
    dropped = true;
  }
  for (const path of warm) {
    await pipeline(
      createReadStream(path, { highWaterMark: 1024 * 1024 }),
      new Writable({ write: (_c, _e, cb) => cb() }),
    );
  }
  return { dropped };
}

/** Every file under `dir` named `name` (the origin's copies of a blob, named by digest hex). */
export async function findFiles(dir, name) {
  const found = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name === name) found.push(join(entry.parentPath, entry.name));
  }
  return found;
}
