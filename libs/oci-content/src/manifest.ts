/**
 * Manifest documents: validation of the fields this project relies on, and the
 * references a manifest makes to other content (blobs, child manifests, subject).
 * Unknown fields are kept; only the structure needed for correctness is checked.
 */
import { z } from 'zod';
import { parseDigest, type Digest } from './digest.js';
import { KrakenError } from '@kraken/foundation';
import {
  INDEX_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  MediaType,
  NON_DISTRIBUTABLE_MEDIA_TYPES,
} from './media-types.js';

export class InvalidManifestError extends KrakenError {
  constructor(message: string, detail?: unknown) {
    super('KRAKEN_INVALID_MANIFEST', message, { statusCode: 400, detail });
  }
}

const digestString = z.string().refine((s) => {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}, 'invalid digest');

export const descriptorSchema = z
  .object({
    mediaType: z.string().min(1).max(255),
    digest: digestString,
    size: z.number().int().nonnegative(),
    urls: z.array(z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    artifactType: z.string().optional(),
    platform: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

export type Descriptor = z.infer<typeof descriptorSchema>;

const imageManifestSchema = z
  .object({
    schemaVersion: z.literal(2),
    mediaType: z.string().optional(),
    artifactType: z.string().optional(),
    config: descriptorSchema,
    layers: z.array(descriptorSchema),
    subject: descriptorSchema.optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .passthrough();

const indexSchema = z
  .object({
    schemaVersion: z.literal(2),
    mediaType: z.string().optional(),
    artifactType: z.string().optional(),
    manifests: z.array(descriptorSchema),
    subject: descriptorSchema.optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .passthrough();

export interface ParsedManifest {
  /** The effective media type (from the document, or the Content-Type it was sent with). */
  readonly mediaType: string;
  readonly kind: 'image' | 'index';
  /** Blobs this manifest needs (config + layers); empty for an index. */
  readonly blobs: readonly Descriptor[];
  /** Child manifests (index entries); empty for an image manifest. */
  readonly manifests: readonly Descriptor[];
  readonly subject: Descriptor | undefined;
  /** artifactType, or the config media type of an image manifest, as the referrers API reports it. */
  readonly artifactType: string | undefined;
  readonly annotations: Record<string, string> | undefined;
}

/**
 * Parses manifest bytes. `contentType` is the media type the client declared; when the
 * document carries its own `mediaType` the two must agree.
 */
export function parseManifest(bytes: Uint8Array, contentType?: string): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new InvalidManifestError('manifest is not valid JSON', { reason: (err as Error).message });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidManifestError('manifest must be a JSON object');
  }
  const declared = (json as { mediaType?: unknown }).mediaType;
  const ct = contentType?.split(';')[0]?.trim();
  let mediaType: string | undefined = typeof declared === 'string' ? declared : undefined;
  if (mediaType !== undefined && ct && MANIFEST_MEDIA_TYPES.has(ct) && ct !== mediaType) {
    throw new InvalidManifestError(`manifest mediaType ${mediaType} does not match Content-Type ${ct}`);
  }
  mediaType ??= ct && MANIFEST_MEDIA_TYPES.has(ct) ? ct : undefined;
  if (mediaType === undefined) {
    mediaType = 'manifests' in json ? MediaType.ociIndex : MediaType.ociManifest;
  }
  if (!MANIFEST_MEDIA_TYPES.has(mediaType)) {
    throw new InvalidManifestError(`unsupported manifest media type ${mediaType}`);
  }
  if (INDEX_MEDIA_TYPES.has(mediaType)) {
    const parsed = indexSchema.safeParse(json);
    if (!parsed.success)
      throw new InvalidManifestError('invalid image index', { issues: parsed.error.issues });
    return {
      mediaType,
      kind: 'index',
      blobs: [],
      manifests: parsed.data.manifests,
      subject: parsed.data.subject,
      artifactType: parsed.data.artifactType,
      annotations: parsed.data.annotations,
    };
  }
  const parsed = imageManifestSchema.safeParse(json);
  if (!parsed.success)
    throw new InvalidManifestError('invalid image manifest', { issues: parsed.error.issues });
  const m = parsed.data;
  return {
    mediaType,
    kind: 'image',
    blobs: [m.config, ...m.layers],
    manifests: [],
    subject: m.subject,
    artifactType: m.artifactType ?? m.config.mediaType,
    annotations: m.annotations,
  };
}

/** Digests of every descriptor the manifest references directly. */
export function referencedDigests(manifest: ParsedManifest): Digest[] {
  return [...manifest.blobs, ...manifest.manifests].map((d) => parseDigest(d.digest));
}

/** The blobs a registry must hold before accepting the manifest: all but non-distributable layers. */
export function requiredBlobs(manifest: ParsedManifest): Descriptor[] {
  return manifest.blobs.filter((d) => !NON_DISTRIBUTABLE_MEDIA_TYPES.has(d.mediaType));
}
