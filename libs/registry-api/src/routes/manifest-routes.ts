/**
 * Manifest pull, push and delete. A push is read into memory up to the manifest limit,
 * checked against the digest it is pushed under, parsed, and accepted only when the
 * content it references is present; its bytes are stored exactly as sent.
 */
import { digestOf, DigestMismatchError, parseDigest, parseManifest } from '@kraken/oci-content';
import { ManifestTooLargeError, ManifestUnknownError, UnsupportedError } from '../errors.js';
import { checkManifestReferences } from './manifest-references.js';
import type { EndpointHandler } from '../registry-context.js';
import { requireWritable } from '../registry-context.js';
import { manifestLocation } from './registry-locations.js';
import { isTag, parseReference, parseTag, type Reference } from '../request/registry-names.js';
import { readBoundedBody } from '../request/request-body.js';
import { all, header, queryOf } from '../request/request-params.js';

type ManifestEndpoint = { readonly repo: string; readonly reference: string };

/** More tags than this in one push by digest is refused rather than applied one by one. */
const MAX_TAG_PARAMS = 32;

export const getManifest: EndpointHandler<ManifestEndpoint> = async (
  ctx,
  request,
  reply,
  { repo, reference },
) => {
  const ref = readReference(reference);
  const manifest = await ctx.store.getManifest(repo, ref);
  if (manifest === undefined) throw new ManifestUnknownError(reference);
  reply
    .code(200)
    .header('content-type', manifest.mediaType)
    .header('docker-content-digest', manifest.digest.value)
    .header('etag', `"${manifest.digest.value}"`);
  if (manifest.stale === true) reply.header('warning', '110 - "Response is Stale"');
  if (request.method === 'HEAD') {
    reply.header('content-length', String(manifest.bytes.byteLength)).send();
    return;
  }
  ctx.metrics.bytesServed('manifest', manifest.bytes.byteLength);
  reply.send(manifest.bytes);
};

export const putManifest: EndpointHandler<ManifestEndpoint> = async (
  ctx,
  request,
  reply,
  { repo, reference },
) => {
  const { store } = requireWritable(ctx);
  const ref = parseReference(reference);
  const tags = 'tag' in ref ? [ref.tag] : tagParams(all(queryOf(request)['tag']));
  const limit = ctx.limits.maxManifestBytes;
  const bytes = await readBoundedBody(request, limit, () => new ManifestTooLargeError(limit));
  ctx.metrics.bytesReceived('manifest', bytes.byteLength);
  const digest = 'digest' in ref ? digestOf(bytes, ref.digest.algorithm) : digestOf(bytes);
  if ('digest' in ref && digest.value !== ref.digest.value)
    throw new DigestMismatchError(ref.digest.value, digest.value);
  const parsed = parseManifest(bytes, header(request, 'content-type'));
  await checkManifestReferences(store, repo, parsed);
  const stored = { digest, mediaType: parsed.mediaType, bytes };
  if (tags.length === 0) await store.putManifest(repo, stored, parsed);
  for (const tag of tags) await store.putManifest(repo, stored, parsed, tag);
  ctx.logger.debug({ repo, digest: digest.value, tags }, 'manifest pushed');
  reply
    .code(201)
    .header('location', manifestLocation(repo, digest))
    .header('docker-content-digest', digest.value);
  // Only a registry with the referrers API may claim to have processed the subject.
  if (parsed.subject !== undefined && ctx.store.listReferrers !== undefined) {
    reply.header('oci-subject', parseDigest(parsed.subject.digest).value);
  }
  if ('digest' in ref && tags.length > 0) reply.header('oci-tag', tags.join(', '));
  reply.send();
};

export const deleteManifest: EndpointHandler<ManifestEndpoint> = async (
  ctx,
  _request,
  reply,
  { repo, reference },
) => {
  const { store } = requireWritable(ctx);
  if (store.deleteManifest === undefined)
    throw new UnsupportedError('manifest and tag deletion are disabled');
  const ref = readReference(reference);
  if (!(await store.deleteManifest(repo, ref))) throw new ManifestUnknownError(reference);
  reply.code(202).send();
};

/**
 * The reference of a read or delete. A string that is not a valid tag cannot name a
 * manifest, so it is simply unknown (404); a malformed digest is still a 400.
 */
function readReference(reference: string): Reference {
  if (reference.includes(':')) return parseReference(reference);
  if (!isTag(reference)) throw new ManifestUnknownError(reference);
  return { tag: reference };
}

function tagParams(values: string[]): string[] {
  if (values.length > MAX_TAG_PARAMS)
    throw new UnsupportedError(`at most ${MAX_TAG_PARAMS} tag parameters are accepted`);
  return [...new Set(values.map(parseTag))];
}
