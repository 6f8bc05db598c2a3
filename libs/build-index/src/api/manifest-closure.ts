/**
 * The manifest closure check behind every tag and manifest-record write: a tag may only
 * point at a manifest whose whole content graph is on the origins. The manifest is
 * fetched (verified, capped at MAX_MANIFEST_BYTES), every blob it references is stat'ed,
 * and image indexes are followed into their child manifests. Every missing digest is
 * collected, so one refusal names all of them rather than the first.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DigestVerifyStream,
  InvalidManifestError,
  MAX_MANIFEST_BYTES,
  parseDigest,
  parseManifest,
  requiredBlobs,
  type Digest,
  type ParsedManifest,
} from '@kraken/oci-content';
import type { OriginClient } from '@kraken/origin';
import type { ManifestRecord } from '../contracts.js';
import { createLimiter } from '../concurrency-limiter.js';

export interface ManifestClosureOptions {
  readonly origin: Pick<OriginClient, 'statBlob' | 'getBlob'>;
  /** Origin requests in flight at once for one check (default 8). */
  readonly concurrency?: number;
  /** Deepest index nesting followed; an index at this depth may not list further indexes (default 4). */
  readonly maxDepth?: number;
  /** Distinct manifests one check may visit, against amplification by huge indexes (default 256). */
  readonly maxManifests?: number;
}

export interface ManifestClosure {
  /** The root manifest; undefined when it is itself missing on the origins. */
  readonly root: { readonly parsed: ParsedManifest; readonly size: number } | undefined;
  /** Every missing digest, each once, in discovery order. */
  readonly missing: readonly Digest[];
}

export interface ManifestClosureCheckOptions {
  /** The media type the root manifest was pushed with; its document must agree with it. */
  readonly contentType?: string;
  readonly signal?: AbortSignal;
}

export type ManifestClosureCheck = (
  digest: Digest,
  options?: ManifestClosureCheckOptions,
) => Promise<ManifestClosure>;

export function createManifestClosureCheck(options: ManifestClosureOptions): ManifestClosureCheck {
  const { origin } = options;
  const concurrency = options.concurrency ?? 8;
  const maxDepth = options.maxDepth ?? 4;
  const maxManifests = options.maxManifests ?? 256;

  return async function checkClosure(rootDigest, checkOptions = {}) {
    const { signal } = checkOptions;
    // One limiter per check, taken only around single origin requests (never across a
    // recursion), so nested indexes cannot deadlock on their parents' slots.
    const limit = createLimiter(concurrency);
    const missing = new Map<string, Digest>();
    const seen = new Set<string>([rootDigest.value]);
    let manifestCount = 1;

    const statBlob = async (digest: Digest): Promise<void> => {
      const stat = await limit(() => origin.statBlob(digest, signal));
      if (stat === undefined) missing.set(digest.value, digest);
    };

    const visitManifest = async (
      digest: Digest,
      depth: number,
      contentType: string | undefined,
    ): Promise<ManifestClosure['root']> => {
      const bytes = await limit(() => fetchManifest(origin, digest, signal));
      if (bytes === undefined) {
        missing.set(digest.value, digest);
        return undefined;
      }
      const parsed = parseManifest(bytes, contentType);
      const work: Promise<unknown>[] = [];
      for (const descriptor of requiredBlobs(parsed)) {
        const blob = parseDigest(descriptor.digest);
        if (seen.has(blob.value)) continue;
        seen.add(blob.value);
        work.push(statBlob(blob));
      }
      for (const descriptor of parsed.manifests) {
        const child = parseDigest(descriptor.digest);
        // `seen` is also the cycle guard: a digest is visited at most once per check.
        if (seen.has(child.value)) continue;
        if (depth >= maxDepth) {
          throw new InvalidManifestError(
            `image index ${digest.value} nests manifests deeper than ${maxDepth} levels`,
          );
        }
        seen.add(child.value);
        if (++manifestCount > maxManifests) {
          throw new InvalidManifestError(
            `manifest ${rootDigest.value} references more than ${maxManifests} manifests`,
          );
        }
        work.push(visitManifest(child, depth + 1, descriptor.mediaType));
      }
      await Promise.all(work);
      return { parsed, size: bytes.byteLength };
    };

    const root = await visitManifest(rootDigest, 0, checkOptions.contentType);
    return { root, missing: [...missing.values()] };
  };
}

/** The manifest record a tag write implies, from the root manifest a closure check read. */
export function recordOfManifest(digest: Digest, root: NonNullable<ManifestClosure['root']>): ManifestRecord {
  const { parsed, size } = root;
  return {
    digest: digest.value,
    mediaType: parsed.mediaType,
    size,
    ...(parsed.artifactType !== undefined ? { artifactType: parsed.artifactType } : {}),
    ...(parsed.subject !== undefined ? { subject: parsed.subject.digest } : {}),
    ...(parsed.annotations !== undefined ? { annotations: parsed.annotations } : {}),
  };
}

/** Reads a manifest from the origin, verified against its digest; undefined when absent. */
export async function fetchManifest(
  origin: Pick<OriginClient, 'getBlob'>,
  digest: Digest,
  signal: AbortSignal | undefined,
): Promise<Buffer | undefined> {
  const body = await origin.getBlob(digest, signal === undefined ? {} : { signal });
  if (body === undefined) return undefined;
  const chunks: Buffer[] = [];
  await pipeline(
    body,
    new DigestVerifyStream({ expected: digest, maxSize: MAX_MANIFEST_BYTES }),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    }),
    signal === undefined ? {} : { signal },
  );
  return Buffer.concat(chunks);
}
