/** Reads back an OCI image layout written by skopeo, hashing every blob it holds. */
import { createReadStream } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { DigestVerifyStream } from '@kraken/oci-content';

/** Every blob file's recomputed digest (so a corrupt file shows as a wrong digest). */
export async function layoutBlobDigests(dir: string): Promise<string[]> {
  const names = await readdir(join(dir, 'blobs', 'sha256'));
  const digests: string[] = [];
  for (const name of names) {
    const verify = new DigestVerifyStream();
    await pipeline(
      createReadStream(join(dir, 'blobs', 'sha256', name)),
      verify,
      new Writable({ write: (_c, _e, cb) => cb() }),
    );
    expectName(name, verify.digest.hex);
    digests.push(verify.digest.value);
  }
  return digests.sort();
}

function expectName(name: string, hex: string) {
  if (name !== hex) throw new Error(`blob file ${name} holds content with digest sha256:${hex}`);
}

/** The digest of the top-level manifest the layout's index.json points at. */
export async function layoutTopDigest(dir: string): Promise<string> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
    manifests: { digest: string }[];
  };
  const first = index.manifests[0];
  if (!first) throw new Error(`${dir}/index.json lists no manifest`);
  return first.digest;
}
