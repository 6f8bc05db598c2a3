/**
 * Which registry object a backend key names. The registry backend serves two layouts
 * that the rest of the system already uses:
 *
 *   blobs/<alg>/<2 hex>/<hex>               the content store's blob keys; the repository
 *                                           comes from the backend's binding (config
 *                                           `repository`, or the namespace via forNamespace)
 *   repositories/<repo>/_tags/<tag>         the build-index's tag keys; the repository is
 *                                           in the key, the object is {digest, updatedAt}
 *   manifests/<alg>/<hex>                   a manifest by digest, from `/v2/<repo>/manifests/`
 *                                           (registries do not serve manifests as blobs);
 *                                           the repository comes from the binding, as for blobs
 *
 * Repository and tag names are checked against the distribution grammar before they
 * become part of a URL.
 */
import { tryParseDigest, type Digest } from '@kraken/oci-content';
import { digestOfKey } from '../../keys/blob-key.js';
import { validateKeyPrefix, validateObjectKey } from '../../keys/object-key.js';

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const TAG_PREFIX = /^[A-Za-z0-9._-]*$/;
const MAX_REPOSITORY_LENGTH = 255;
const REPOSITORIES = 'repositories';
const TAGS = '_tags';
const MANIFESTS = 'manifests';

export function isRepositoryName(name: string): boolean {
  return name.length <= MAX_REPOSITORY_LENGTH && REPOSITORY.test(name);
}

export function isTagName(tag: string): boolean {
  return TAG.test(tag);
}

export type RegistryObject =
  | { readonly kind: 'blob'; readonly digest: Digest }
  | { readonly kind: 'manifest'; readonly digest: Digest }
  | { readonly kind: 'tag'; readonly repository: string; readonly tag: string };

/** Validates the key (InvalidKeyError) and names its registry object, if it is one. */
export function registryObjectOf(key: string): RegistryObject | undefined {
  const parts = validateObjectKey(key);
  const digest = digestOfKey(key);
  if (digest !== undefined) return { kind: 'blob', digest };
  if (parts[0] === MANIFESTS && parts.length === 3) {
    const manifest = tryParseDigest(`${parts[1]}:${parts[2]}`);
    return manifest === undefined ? undefined : { kind: 'manifest', digest: manifest };
  }
  const at = parts.indexOf(TAGS);
  if (parts[0] !== REPOSITORIES || at < 2 || at !== parts.length - 2) return undefined;
  const repository = parts.slice(1, at).join('/');
  const tag = parts[at + 1] ?? '';
  return isRepositoryName(repository) && isTagName(tag) ? { kind: 'tag', repository, tag } : undefined;
}

/** The key of a manifest by digest (read from the registry's manifests endpoint). */
export function manifestKey(digest: Digest): string {
  return `${MANIFESTS}/${digest.algorithm}/${digest.hex}`;
}

export function tagKey(repository: string, tag: string): string {
  return `${REPOSITORIES}/${repository}/${TAGS}/${tag}`;
}

/**
 * The tag listing a list prefix asks for: `repositories/<repo>/_tags/` and anything
 * longer (a tag prefix). Undefined for every other prefix, which lists nothing here.
 */
export function tagListingOf(prefix: string): { repository: string; tagPrefix: string } | undefined {
  const parts = validateKeyPrefix(prefix).split('/');
  const at = parts.indexOf(TAGS);
  if (parts[0] !== REPOSITORIES || at < 2 || at !== parts.length - 2) return undefined;
  const repository = parts.slice(1, at).join('/');
  const tagPrefix = parts[at + 1] ?? '';
  return isRepositoryName(repository) && TAG_PREFIX.test(tagPrefix) ? { repository, tagPrefix } : undefined;
}
