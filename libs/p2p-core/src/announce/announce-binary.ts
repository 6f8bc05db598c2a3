/**
 * The announce answer in binary, for clients that ask for it with `Accept:
 * application/vnd.kraken.announce-answer.v1` (the agents do); JSON stays the default.
 *
 * Why: the answers are most of a tracker's traffic, and in JSON a handed-out peer takes about
 * 120 bytes, most of them field names and hex. A fleet of 15,000 agents with 50 active blobs
 * each, announcing every 3 s (the default interval), asks its tracker ring for 250,000
 * answers of 50 peers a second: 12 Gbit/s of JSON. In this form a peer takes 35 bytes
 * (with an IPv4 host) and the same answers 3.5 Gbit/s; the agent reads them without a JSON parse.
 * Each peer's record is encoded once, when the tracker first hands it out, as JSON entries
 * are. (The tracker's CPU per announce hardly changes: on its side the cost is per answer,
 * not per byte; bench/tracker.)
 *
 *     answer = version u8 (1) | intervalMs u32 | peers
 *     peers  = count u16 | peer × count
 *     peer   = peerId (20 bytes) | flags u8 (1 complete, 2 origin) | port u16 | hostLength u8 | host (ASCII)
 *
 * A batch announce's answer (`application/vnd.kraken.announce-batch-answer.v1`) has one `peers`
 * part per announced blob, in the request's order:
 *
 *     batch  = version u8 (1) | intervalMs u32 | answers u16 | peers × answers
 *
 * Integers are big-endian. The decoder is as strict as the JSON schema: a hostile or broken
 * tracker's answer is refused, never half-read, and so is a byte past the last peer.
 */
import {
  MAX_ANNOUNCE_PEERS,
  MAX_BATCH_BLOBS,
  isValidPeerHost,
  type AnnounceBatchResponse,
  type AnnounceResponse,
  type AnnouncedPeer,
} from './announce-protocol.js';

export const ANNOUNCE_BINARY_TYPE = 'application/vnd.kraken.announce-answer.v1';
export const ANNOUNCE_BATCH_BINARY_TYPE = 'application/vnd.kraken.announce-batch-answer.v1';

const VERSION = 1;
const HEADER_BYTES = 5;
const COUNT_BYTES = 2;
/** A peer's record before its host. */
const PEER_FIXED_BYTES = 24;
const COMPLETE = 1;
const ORIGIN = 2;
const MAX_INTERVAL_MS = 24 * 3600 * 1000;
const MAX_HOST_BYTES = 253;

/** The answer's first bytes, before its peer count (encodePeerCount) and its peers' records. */
export function encodeAnnounceHeader(intervalSeconds: number): Buffer {
  const intervalMs = Math.round(intervalSeconds * 1000);
  if (!(intervalMs > 0 && intervalMs <= MAX_INTERVAL_MS)) {
    throw new RangeError(`intervalSeconds must be in (0, 86400], got ${intervalSeconds}`);
  }
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(VERSION, 0);
  header.writeUInt32BE(intervalMs, 1);
  return header;
}

/** The count of the peers whose records follow, as two bytes. */
export function encodePeerCount(count: number): Buffer {
  if (!Number.isInteger(count) || count < 0 || count > MAX_ANNOUNCE_PEERS) {
    throw new RangeError(`a binary answer holds 0 to ${MAX_ANNOUNCE_PEERS} peers, got ${count}`);
  }
  const bytes = Buffer.alloc(COUNT_BYTES);
  bytes.writeUInt16BE(count, 0);
  return bytes;
}

/** One peer's record in a binary answer. */
export function encodeAnnouncedPeer(peer: AnnouncedPeer): Buffer {
  const host = Buffer.from(peer.host, 'latin1');
  if (host.length === 0 || host.length > MAX_HOST_BYTES) throw new RangeError(`invalid host ${peer.host}`);
  const record = Buffer.alloc(PEER_FIXED_BYTES + host.length);
  if (record.write(peer.peerId, 0, 20, 'hex') !== 20 || peer.peerId.length !== 40) {
    throw new RangeError(`invalid peer id ${peer.peerId}`);
  }
  record.writeUInt8((peer.complete ? COMPLETE : 0) | (peer.origin ? ORIGIN : 0), 20);
  record.writeUInt16BE(peer.port, 21);
  record.writeUInt8(host.length, 23);
  host.copy(record, PEER_FIXED_BYTES);
  return record;
}

export type DecodedAnnounce = { ok: true; value: AnnounceResponse } | { ok: false; reason: string };
export type DecodedAnnounceBatch = { ok: true; value: AnnounceBatchResponse } | { ok: false; reason: string };

/** The answer in `bytes`, or why it is not one. */
export function decodeAnnounceAnswer(bytes: Uint8Array): DecodedAnnounce {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = readHeader(buf, COUNT_BYTES);
  if (typeof header === 'string') return { ok: false, reason: header };
  const read = readPeers(buf, HEADER_BYTES, '');
  if (typeof read === 'string') return { ok: false, reason: read };
  if (read.end !== buf.length)
    return { ok: false, reason: `${buf.length - read.end} bytes after the last peer` };
  return { ok: true, value: { peers: read.peers, intervalSeconds: header.intervalMs / 1000 } };
}

/** The batch answer in `bytes`, or why it is not one. */
export function decodeAnnounceBatchAnswer(bytes: Uint8Array): DecodedAnnounceBatch {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = readHeader(buf, COUNT_BYTES);
  if (typeof header === 'string') return { ok: false, reason: header };
  const count = buf.readUInt16BE(HEADER_BYTES);
  if (count > MAX_BATCH_BLOBS) return { ok: false, reason: `${count} answers, more than ${MAX_BATCH_BLOBS}` };
  const answers: { peers: AnnouncedPeer[] }[] = [];
  let at = HEADER_BYTES + COUNT_BYTES;
  for (let n = 0; n < count; n++) {
    if (buf.length - at < COUNT_BYTES) return { ok: false, reason: `answer ${n} is cut short` };
    const read = readPeers(buf, at, `answer ${n}: `);
    if (typeof read === 'string') return { ok: false, reason: read };
    answers.push({ peers: read.peers });
    at = read.end;
  }
  if (at !== buf.length) return { ok: false, reason: `${buf.length - at} bytes after the last answer` };
  return { ok: true, value: { answers, intervalSeconds: header.intervalMs / 1000 } };
}

/** The header's interval, when the version is known and `after` more bytes follow it. */
function readHeader(buf: Buffer, after: number): { intervalMs: number } | string {
  if (buf.length < HEADER_BYTES + after) return `${buf.length} bytes, shorter than the header`;
  const version = buf.readUInt8(0);
  if (version !== VERSION) return `unknown version ${version}`;
  const intervalMs = buf.readUInt32BE(1);
  if (intervalMs === 0 || intervalMs > MAX_INTERVAL_MS) return `interval of ${intervalMs} ms is out of range`;
  return { intervalMs };
}

/** A `peers` part starting at `start` (its count there), or why it is not one. */
function readPeers(
  buf: Buffer,
  start: number,
  where: string,
): { peers: AnnouncedPeer[]; end: number } | string {
  const count = buf.readUInt16BE(start);
  if (count > MAX_ANNOUNCE_PEERS) return `${where}${count} peers, more than ${MAX_ANNOUNCE_PEERS}`;
  const peers: AnnouncedPeer[] = [];
  let at = start + COUNT_BYTES;
  for (let n = 0; n < count; n++) {
    if (buf.length - at < PEER_FIXED_BYTES) return `${where}peer ${n} is cut short`;
    const flags = buf.readUInt8(at + 20);
    const port = buf.readUInt16BE(at + 21);
    const hostLength = buf.readUInt8(at + 23);
    if (flags > (COMPLETE | ORIGIN)) return `${where}peer ${n} has unknown flags ${flags}`;
    if (port === 0) return `${where}peer ${n} has port 0`;
    const hostEnd = at + PEER_FIXED_BYTES + hostLength;
    if (hostEnd > buf.length) return `${where}peer ${n} is cut short`;
    const host = buf.toString('latin1', at + PEER_FIXED_BYTES, hostEnd);
    if (!isValidPeerHost(host)) return `${where}peer ${n} has an invalid host`;
    peers.push({
      peerId: buf.toString('hex', at, at + 20),
      host,
      port,
      complete: (flags & COMPLETE) !== 0,
      origin: (flags & ORIGIN) !== 0,
    });
    at = hostEnd;
  }
  return { peers, end: at };
}

/**
 * True when an Accept header lists the binary answer (or `binaryType`, the batch answer's)
 * with a non-zero quality. JSON is the answer for anything else, an absent header included.
 */
export function acceptsBinaryAnswer(
  accept: string | undefined,
  binaryType: string = ANNOUNCE_BINARY_TYPE,
): boolean {
  if (accept === undefined) return false;
  const lower = accept.toLowerCase();
  if (!lower.includes(binaryType)) return false;
  for (const range of lower.split(',')) {
    const [type, ...params] = range.split(';');
    if (type?.trim() !== binaryType) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}
