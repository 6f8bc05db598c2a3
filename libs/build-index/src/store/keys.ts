/**
 * Where the build-index keeps its state in a StorageBackend. Every key is derived from
 * an already validated repository name, tag or Digest, so each segment is a safe key
 * segment. Repository components never start with '_', so the `_tags`, `_manifests`
 * and `_referrers` segments cannot collide with a nested repository's name.
 *
 *   repositories/<repo>/_tags/<tag>                                  {digest, updatedAt}
 *   repositories/<repo>/_deleted/<tag>                               {deletedAt} (cluster tombstone)
 *   repositories/<repo>/_manifests/<alg>/<hex>                       ManifestRecord
 *   repositories/<repo>/_referrers/<subject alg>/<subject hex>/<alg>/<hex>   ManifestRecord
 *   catalog/<encoded repo>                                           {name}
 *
 * The catalog holds one flat key per repository so that listing repositories scans
 * only repositories, in the lexical order of their names (see encodeCatalogName).
 */
import type { Digest } from '@kraken/oci-content';

const REPOSITORIES = 'repositories/';
export const CATALOG_PREFIX = 'catalog/';

export function tagsPrefix(repo: string): string {
  return `${REPOSITORIES}${repo}/_tags/`;
}

export function tagKey(repo: string, tag: string): string {
  return tagsPrefix(repo) + tag;
}

/** Tombstones: when a tag was deleted, so replication does not bring it back. */
export function deletedTagsPrefix(repo: string): string {
  return `${REPOSITORIES}${repo}/_deleted/`;
}

export function deletedTagKey(repo: string, tag: string): string {
  return deletedTagsPrefix(repo) + tag;
}

export function manifestKey(repo: string, digest: Digest): string {
  return `${REPOSITORIES}${repo}/_manifests/${digest.algorithm}/${digest.hex}`;
}

export function referrersPrefix(repo: string, subject: Digest): string {
  return `${REPOSITORIES}${repo}/_referrers/${subject.algorithm}/${subject.hex}/`;
}

export function referrerKey(repo: string, subject: Digest, referrer: Digest): string {
  return `${referrersPrefix(repo, subject)}${referrer.algorithm}/${referrer.hex}`;
}

export function catalogKey(repo: string): string {
  return CATALOG_PREFIX + encodeCatalogName(repo);
}

/*
 * Repository names use [a-z0-9._/-]; key segments allow [A-Za-z0-9._-] without '/'.
 * The mapping below is one-to-one and keeps byte order ('-' < '.' < '/' < '0'..'9' <
 * '_' < 'a'..'z' becomes '-' < '.' < '0' < '1'..'9','A' < '_' < 'a'..'z'), so a sorted
 * listing of catalog keys is the lexically sorted list of repository names.
 */
const ENCODE = new Map<string, string>([['/', '0']]);
for (let d = 0; d <= 9; d++) ENCODE.set(String(d), d === 9 ? 'A' : String(d + 1));
const DECODE = new Map<string, string>([...ENCODE].map(([from, to]) => [to, from]));

export function encodeCatalogName(repo: string): string {
  let out = '';
  for (const ch of repo) out += ENCODE.get(ch) ?? ch;
  return out;
}

export function decodeCatalogName(segment: string): string {
  let out = '';
  for (const ch of segment) out += DECODE.get(ch) ?? ch;
  return out;
}
