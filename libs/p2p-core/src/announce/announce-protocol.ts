/**
 * The announce protocol between peers and the tracker (`POST /v1/announce`), as zod
 * schemas shared by the tracker's routes and the announce client.
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

export const announceRequestSchema = z
  .object({
    peerId: z
      .string()
      .regex(PEER_ID_PATTERN, 'must be 40 lowercase hex characters')
      .describe('The announcing peer, as in its handshake.'),
    clusterId: z
      .string()
      .regex(CLUSTER_ID_PATTERN, 'must be 1-63 characters of [A-Za-z0-9._-], starting alphanumeric')
      .optional()
      .describe('Peers are only handed peers of the same cluster.'),
    address: peerAddressSchema,
    blob: z
      .string()
      .regex(DIGEST_PATTERN, 'must be a sha256 or sha512 OCI digest')
      .describe('The digest of the blob being downloaded or seeded.'),
    complete: z.boolean().describe('True when the peer holds every piece.'),
    origin: z.boolean().default(false).describe('True for origins, which seed every blob they hold.'),
  })
  .strict();

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

/** What a client sends; `origin` may be left out (false). */
export type AnnounceRequest = z.input<typeof announceRequestSchema>;
/** An announce as the tracker sees it after validation. */
export type ParsedAnnounceRequest = z.output<typeof announceRequestSchema>;
export type AnnouncedPeer = z.output<typeof announcedPeerSchema>;
export type AnnounceResponse = z.output<typeof announceResponseSchema>;
