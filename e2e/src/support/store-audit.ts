/**
 * Audits a filesystem content store after hostile traffic: every file under blobs/
 * must hold exactly the content its name claims, and no temporary file may be left.
 */
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { DigestVerifyStream } from '@kraken/oci-content';

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

export interface AuditResult {
  blobs: string[];
  /** Files that are not a verified blob at its digest path. */
  problems: string[];
}

export async function auditContentStore(root: string): Promise<AuditResult> {
  const blobs: string[] = [];
  const problems: string[] = [];
  for (const file of await walk(root)) {
    const rel = relative(root, file);
    const m = /^blobs\/(sha256|sha512)\/([0-9a-f]{2})\/([0-9a-f]+)$/.exec(rel);
    if (!m) {
      problems.push(`unexpected file ${rel}`);
      continue;
    }
    const verify = new DigestVerifyStream({ algorithm: m[1] as 'sha256' | 'sha512' });
    await pipeline(createReadStream(file), verify, new Writable({ write: (_c, _e, cb) => cb() }));
    if (verify.digest.hex !== m[3] || !m[3].startsWith(m[2]!))
      problems.push(`${rel} holds ${verify.digest.value}`);
    else blobs.push(verify.digest.value);
  }
  return { blobs, problems };
}
