/**
 * Routing of `/v2/...` URLs. Repository names contain slashes, so the plugin takes
 * every `/v2/*` request and this module splits the raw path into an endpoint and its
 * validated parts. Traversal attempts (`.`/`..` segments, backslashes, any
 * percent-encoding other than an encoded ':') are rejected before anything else.
 */
import type { Digest } from '@kraken/oci-content';
import { parseDigest } from '@kraken/oci-content';
import { NameInvalidError } from '../errors.js';
import { parseRepositoryName } from './registry-names.js';

export type RegistryEndpoint =
  | { readonly kind: 'base' }
  | { readonly kind: 'catalog' }
  | { readonly kind: 'tags'; readonly repo: string }
  | { readonly kind: 'manifest'; readonly repo: string; readonly reference: string }
  | { readonly kind: 'blob'; readonly repo: string; readonly digest: Digest }
  | { readonly kind: 'uploads'; readonly repo: string }
  | { readonly kind: 'upload'; readonly repo: string; readonly id: string }
  | { readonly kind: 'referrers'; readonly repo: string; readonly digest: Digest }
  | { readonly kind: 'unknown' };

export type EndpointKind = RegistryEndpoint['kind'];

// Order matters: `blobs/uploads/<id>` must win over `blobs/<digest>`. The name part is
// greedy and the last part has no '/', so the endpoint keyword is always the last one.
const PATTERNS: ReadonlyArray<readonly [RegExp, (repo: string, last: string) => RegistryEndpoint]> = [
  [/^(.+)\/tags\/list$/, (repo) => ({ kind: 'tags', repo })],
  [/^(.+)\/manifests\/([^/]+)$/, (repo, reference) => ({ kind: 'manifest', repo, reference })],
  [/^(.+)\/blobs\/uploads\/?$/, (repo) => ({ kind: 'uploads', repo })],
  [/^(.+)\/blobs\/uploads\/([^/]+)$/, (repo, id) => ({ kind: 'upload', repo, id })],
  [/^(.+)\/blobs\/([^/]+)$/, (repo, digest) => ({ kind: 'blob', repo, digest: parseDigest(digest) })],
  [
    /^(.+)\/referrers\/([^/]+)$/,
    (repo, digest) => ({ kind: 'referrers', repo, digest: parseDigest(digest) }),
  ],
];

/** Parses a raw request URL (path and query); throws NameInvalidError / InvalidDigestError. */
export function parseRegistryPath(rawUrl: string): RegistryEndpoint {
  const queryStart = rawUrl.indexOf('?');
  const path = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
  if (path === '/v2' || path === '/v2/') return { kind: 'base' };
  if (!path.startsWith('/v2/')) return { kind: 'unknown' };
  const tail = decodeColons(path.slice('/v2/'.length));
  for (const segment of tail.split('/')) {
    if (segment === '.' || segment === '..') throw new NameInvalidError('path traversal is not allowed');
  }
  if (tail === '_catalog') return { kind: 'catalog' };
  for (const [pattern, build] of PATTERNS) {
    const match = pattern.exec(tail);
    if (match === null) continue;
    const repo = parseRepositoryName(match[1] ?? '');
    return build(repo, match[2] ?? '');
  }
  return { kind: 'unknown' };
}

/**
 * Some clients percent-encode the ':' of digests. Nothing else a valid URL of this API
 * contains ever needs encoding, so any other escape (`%2e`, `%2f`, `%5c`...) is refused
 * rather than decoded: decoding first and validating after is how traversal bugs happen.
 */
function decodeColons(tail: string): string {
  if (tail.includes('\\')) throw new NameInvalidError('backslashes are not allowed in names');
  if (!tail.includes('%')) return tail;
  const decoded = tail.replace(/%3a/gi, ':');
  if (decoded.includes('%'))
    throw new NameInvalidError('percent-encoded characters are not allowed in names');
  return decoded;
}
