/**
 * The announce protocol between peers and the tracker, as zod schemas shared by the
 * tracker's routes and the announce client: `POST /v1/announce` for one blob, and
 * `POST /v1/announce/batch` for many blobs of one peer at once.
 *
 * Why a batch: a tracker's cost is per request (parsing, routing, one write per answer),
 * not per blob, and an agent holds tens of blobs that all announce every interval. One
 * request per tracker and interval carries them all (announce-batcher.ts), and the peer's
 * identity is sent and checked once rather than once per blob.
 *
 * A peer names the blob by its OCI digest, not by its metainfo id: a peer knows the
 * digest before it has fetched metainfo, the tracker ring is keyed by digest, and the
 * tracker serves metainfo by digest too. Peers whose metainfo differs for one digest
 * (a piece-length migration) still meet, but only exchange pieces when their
 * handshakes agree on the metainfo id.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { DIGEST_PATTERN } from '@kraken/oci-content';
import { CLUSTER_ID_PATTERN, PEER_ID_PATTERN } from '../wire/handshake.js';

/** Upper bound on peers in one answer, whatever the tracker is configured for. */
export const MAX_ANNOUNCE_PEERS = 1000;
/** Upper bound on blobs in one batch announce; a client splits larger batches. */
export const MAX_BATCH_BLOBS = 1000;

// RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens.
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/**
 * True for an IPv4 or IPv6 literal (IPv6 without brackets) or a DNS host name. IPv6
 * zone ids (`fe80::1%eth0`) are refused: they only mean something on the host that
 * wrote them.
 */
export function isValidPeerHost(host: string): boolean {
  if (host.includes('%')) return false;
  return isIP(host) !== 0 || HOST_NAME.test(host);
}

/** True for the unspecified addresses, which ask the tracker to use the source address. */
export function isUnspecifiedHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '0:0:0:0:0:0:0:0';
}

export const peerAddressSchema = z
  .object({
    host: z
      .string()
      .refine(isValidPeerHost, 'must be an IPv4 or IPv6 address (no brackets) or a DNS host name')
      // What isValidPeerHost accepts, as JSON Schema shows it (API documents).
      .meta({ anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }, { format: 'hostname' }] })
      .describe(
        'Where other peers reach this one. "0.0.0.0" or "::" asks the tracker to use the source address of the announce.',
      ),
    port: z.number().int().min(1).max(65535).describe('The P2P (TCP) port.'),
  })
  .strict();

const peerIdSchema = z
  .string()
  .regex(PEER_ID_PATTERN, 'must be 40 lowercase hex characters')
  .describe('The announcing peer, as in its handshake.');
const clusterIdSchema = z
  .string()
  .regex(CLUSTER_ID_PATTERN, 'must be 1-63 characters of [A-Za-z0-9._-], starting alphanumeric')
  .optional()
  .describe('Peers are only handed peers of the same cluster.');
const blobSchema = z
  .string()
  .regex(DIGEST_PATTERN, 'must be a sha256 or sha512 OCI digest')
  .describe('The digest of the blob being downloaded or seeded.');
const completeSchema = z.boolean().describe('True when the peer holds every piece.');
const originSchema = z
  .boolean()
  .default(false)
  .describe('True for origins, which seed every blob they hold.');

export const announceRequestSchema = z
  .object({
    peerId: peerIdSchema,
    clusterId: clusterIdSchema,
    address: peerAddressSchema,
    blob: blobSchema,
    complete: completeSchema,
    origin: originSchema,
  })
  .strict();

export const announceBatchEntrySchema = z
  .object({
    blob: blobSchema,
    complete: completeSchema,
    want: z
      .number()
      .int()
      .min(0)
      .max(MAX_ANNOUNCE_PEERS)
      .optional()
      .describe(
        "Most peers wanted in this blob's answer (the tracker's limit when absent). A seeder sends 0: it never dials, peers dial it.",
      ),
  })
  .strict();

export const announceBatchRequestSchema = z
  .object({
    peerId: peerIdSchema,
    clusterId: clusterIdSchema,
    address: peerAddressSchema,
    origin: originSchema,
    blobs: z
      .array(announceBatchEntrySchema)
      .min(1)
      .max(MAX_BATCH_BLOBS)
      .describe('The blobs announced, each answered in the same position of `answers`.'),
  })
  .strict()
  .superRefine((batch, ctx) => {
    const seen = new Set<string>();
    batch.blobs.forEach(({ blob }, i) => {
      if (seen.has(blob))
        ctx.addIssue({ code: 'custom', path: ['blobs', i, 'blob'], message: 'is a duplicate' });
      seen.add(blob);
    });
  });

export const announcedPeerSchema = z
  .object({
    peerId: z.string().regex(PEER_ID_PATTERN, 'must be 40 lowercase hex characters'),
    host: z.string().refine(isValidPeerHost, 'must be an IP address or a DNS host name'),
    port: z.number().int().min(1).max(65535),
    complete: z.boolean(),
    origin: z.boolean(),
  })
  .strict();

export const announceResponseSchema = z
  .object({
    peers: z.array(announcedPeerSchema).max(MAX_ANNOUNCE_PEERS),
    intervalSeconds: z
      .number()
      .positive()
      .max(24 * 3600)
      .describe('When to announce this blob next.'),
  })
  .strict();

export const announceBatchResponseSchema = z
  .object({
    answers: z
      .array(z.object({ peers: z.array(announcedPeerSchema).max(MAX_ANNOUNCE_PEERS) }).strict())
      .max(MAX_BATCH_BLOBS)
      .describe("One per announced blob, in the request's order."),
    intervalSeconds: z
      .number()
      .positive()
      .max(24 * 3600)
      .describe('When to announce these blobs next.'),
  })
  .strict();

const ANNOUNCE_KEYS = new Set(['peerId', 'clusterId', 'address', 'blob', 'complete', 'origin']);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/**
 * The announce in `body` when it is one in its usual form, checked field by field as the
 * schema checks it; undefined for anything else, which the schema then judges.
 */
function wellFormedAnnounce(body: unknown): ParsedAnnounceRequest | undefined {
  if (!isPlainObject(body)) return undefined;
  for (const key in body) if (!ANNOUNCE_KEYS.has(key)) return undefined;
  const { peerId, clusterId, address, blob, complete, origin } = body;
  if (typeof peerId !== 'string' || !PEER_ID_PATTERN.test(peerId)) return undefined;
  if ('clusterId' in body && (typeof clusterId !== 'string' || !CLUSTER_ID_PATTERN.test(clusterId))) {
    return undefined;
  }
  if (typeof blob !== 'string' || !DIGEST_PATTERN.test(blob)) return undefined;
  if (typeof complete !== 'boolean') return undefined;
  if ('origin' in body && typeof origin !== 'boolean') return undefined;
  if (!isPlainObject(address)) return undefined;
  for (const key in address) if (key !== 'host' && key !== 'port') return undefined;
  const { host, port } = address;
  if (typeof host !== 'string' || !isValidPeerHost(host)) return undefined;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return {
    peerId,
    ...(typeof clusterId === 'string' ? { clusterId } : {}),
    address: { host, port },
    blob,
    complete,
    origin: origin === true,
  };
}

/**
 * announceRequestSchema.safeParse for the tracker, which validates every announce it gets:
 * the same answer, but a well-formed announce is checked without the schema's machinery
 * (a test holds the two to the same verdicts).
 */
export function parseAnnounceRequest(body: unknown): z.ZodSafeParseResult<ParsedAnnounceRequest> {
  const data = wellFormedAnnounce(body);
  return data === undefined ? announceRequestSchema.safeParse(body) : { success: true, data };
}

const BATCH_KEYS = new Set(['peerId', 'clusterId', 'address', 'origin', 'blobs']);
const ENTRY_KEYS = new Set(['blob', 'complete', 'want']);

/** The batch in `body` when it is one in its usual form (see wellFormedAnnounce). */
function wellFormedBatch(body: unknown): ParsedAnnounceBatchRequest | undefined {
  if (!isPlainObject(body)) return undefined;
  for (const key in body) if (!BATCH_KEYS.has(key)) return undefined;
  const { blobs, ...identity } = body;
  const peer = wellFormedAnnounce({ ...identity, blob: FAST_PATH_DIGEST, complete: false });
  if (peer === undefined || !Array.isArray(blobs)) return undefined;
  if (blobs.length === 0 || blobs.length > MAX_BATCH_BLOBS) return undefined;
  const seen = new Set<string>();
  const entries: ParsedAnnounceBatchRequest['blobs'] = [];
  for (const entry of blobs as unknown[]) {
    if (!isPlainObject(entry)) return undefined;
    for (const key in entry) if (!ENTRY_KEYS.has(key)) return undefined;
    const { blob, complete, want } = entry;
    if (typeof blob !== 'string' || !DIGEST_PATTERN.test(blob) || seen.has(blob)) return undefined;
    if (typeof complete !== 'boolean') return undefined;
    if ('want' in entry) {
      if (typeof want !== 'number' || !Number.isInteger(want) || want < 0 || want > MAX_ANNOUNCE_PEERS)
        return undefined;
      entries.push({ blob, complete, want });
    } else entries.push({ blob, complete });
    seen.add(blob);
  }
  const { peerId, clusterId, address, origin } = peer;
  return { peerId, ...(clusterId === undefined ? {} : { clusterId }), address, origin, blobs: entries };
}

/** A digest that passes DIGEST_PATTERN, for checking a batch's identity as an announce's. */
const FAST_PATH_DIGEST = `sha256:${'0'.repeat(64)}`;

/** parseAnnounceRequest for `POST /v1/announce/batch` (a test holds it to the schema too). */
export function parseAnnounceBatchRequest(body: unknown): z.ZodSafeParseResult<ParsedAnnounceBatchRequest> {
  const data = wellFormedBatch(body);
  return data === undefined ? announceBatchRequestSchema.safeParse(body) : { success: true, data };
}

/** What a client sends; `origin` may be left out (false). */
export type AnnounceRequest = z.input<typeof announceRequestSchema>;
/** An announce as the tracker sees it after validation. */
export type ParsedAnnounceRequest = z.output<typeof announceRequestSchema>;
export type AnnouncedPeer = z.output<typeof announcedPeerSchema>;
export type AnnounceResponse = z.output<typeof announceResponseSchema>;
/** A batch announce as a client sends it. */
export type AnnounceBatchRequest = z.input<typeof announceBatchRequestSchema>;
/** A batch announce as the tracker sees it after validation. */
export type ParsedAnnounceBatchRequest = z.output<typeof announceBatchRequestSchema>;
export type AnnounceBatchResponse = z.output<typeof announceBatchResponseSchema>;
