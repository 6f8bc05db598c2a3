/**
 * The handshake: the first frame on every connection, in both directions.
 *
 * Body layout (big-endian): u16 version | 20 B peer id | u8 n | n B cluster id
 * (ASCII) | u16 offered count | 32 B ids... | u16 wanted count | 32 B ids...
 *
 * The type byte (0x01) and the leading version field are frozen for all future
 * versions: a decoder reads the version before anything else, so a peer speaking
 * another version is told "version mismatch" rather than "malformed".
 */
import { ProtocolError } from '../errors.js';
import {
  BLOB_ID_BYTES,
  MAX_HANDSHAKE_BLOB_IDS,
  PEER_ID_BYTES,
  PROTOCOL_VERSION,
  type HandshakeMessage,
} from './messages.js';

/** Cluster ids are short DNS-label-like names, safe to log and compare. */
export const CLUSTER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const PEER_ID_PATTERN = /^[a-f0-9]{40}$/;
const BLOB_ID = /^[a-f0-9]{64}$/;

/** Smallest body that still carries a version, so any version can be told apart. */
export const MIN_HANDSHAKE_BODY = 2;

export function isValidClusterId(id: string): boolean {
  return CLUSTER_ID_PATTERN.test(id);
}

export function isValidPeerId(id: string): boolean {
  return PEER_ID_PATTERN.test(id);
}

export function isValidBlobId(id: string): boolean {
  return BLOB_ID.test(id);
}

/** What a receiver accepts in a peer's handshake. */
export interface HandshakeExpectation {
  /** Only peers of this cluster are accepted. */
  clusterId: string;
}

export function encodeHandshakeBody(message: HandshakeMessage): Buffer {
  const { version, clusterId, peerId, offered, wanted } = message;
  if (!Number.isInteger(version) || version < 0 || version > 0xffff) {
    throw malformed(`handshake version ${version} is not a u16`);
  }
  if (!isValidClusterId(clusterId)) throw malformed('handshake cluster id is invalid');
  if (!isValidPeerId(peerId)) throw malformed('handshake peer id must be 40 lowercase hex characters');
  if (offered.length + wanted.length > MAX_HANDSHAKE_BLOB_IDS) {
    throw malformed(`handshake lists more than ${MAX_HANDSHAKE_BLOB_IDS} blob ids`);
  }
  const body = Buffer.allocUnsafe(
    2 + PEER_ID_BYTES + 1 + clusterId.length + 4 + (offered.length + wanted.length) * BLOB_ID_BYTES,
  );
  let at = body.writeUInt16BE(version, 0);
  at += body.write(peerId, at, 'hex');
  at = body.writeUInt8(clusterId.length, at);
  at += body.write(clusterId, at, 'latin1');
  at = writeIds(body, at, offered);
  writeIds(body, at, wanted);
  return body;
}

function writeIds(body: Buffer, start: number, ids: readonly string[]): number {
  let at = body.writeUInt16BE(ids.length, start);
  for (const id of ids) {
    if (!isValidBlobId(id)) throw malformed('blob id must be 64 lowercase hex characters');
    at += body.write(id, at, 'hex');
  }
  return at;
}

/**
 * Decodes and checks a peer's handshake body: version first, then layout, then
 * cluster. Throws ProtocolError (VERSION_MISMATCH, MALFORMED_MESSAGE or
 * UNKNOWN_CLUSTER).
 */
export function decodeHandshakeBody(body: Buffer, expect: HandshakeExpectation): HandshakeMessage {
  if (body.length < MIN_HANDSHAKE_BODY) throw malformed('handshake is too short');
  const version = body.readUInt16BE(0);
  if (version !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      'KRAKEN_P2P_VERSION_MISMATCH',
      `peer speaks protocol version ${version}, this peer speaks ${PROTOCOL_VERSION}`,
      { version, expected: PROTOCOL_VERSION },
    );
  }
  let at = 2;
  if (body.length < at + PEER_ID_BYTES + 1) throw malformed('handshake is too short');
  const peerId = body.toString('hex', at, at + PEER_ID_BYTES);
  at += PEER_ID_BYTES;
  const clusterLength = body.readUInt8(at);
  at += 1;
  if (body.length < at + clusterLength) throw malformed('handshake cluster id is truncated');
  const clusterId = body.toString('latin1', at, at + clusterLength);
  at += clusterLength;
  if (!isValidClusterId(clusterId)) throw malformed('handshake cluster id is invalid');
  const offered = readIds(body, at);
  const wanted = readIds(body, offered.end);
  if (wanted.end !== body.length) throw malformed('handshake has trailing bytes');
  if (offered.ids.length + wanted.ids.length > MAX_HANDSHAKE_BLOB_IDS) {
    throw malformed(`handshake lists more than ${MAX_HANDSHAKE_BLOB_IDS} blob ids`);
  }
  // Checked last so that the error names the real problem only for a well-formed peer.
  if (clusterId !== expect.clusterId) {
    throw new ProtocolError('KRAKEN_P2P_UNKNOWN_CLUSTER', `peer belongs to cluster "${clusterId}"`, {
      clusterId,
      expected: expect.clusterId,
    });
  }
  return { type: 'handshake', version, clusterId, peerId, offered: offered.ids, wanted: wanted.ids };
}

function readIds(body: Buffer, start: number): { ids: string[]; end: number } {
  if (body.length < start + 2) throw malformed('handshake blob list is truncated');
  const count = body.readUInt16BE(start);
  let at = start + 2;
  if (body.length < at + count * BLOB_ID_BYTES) throw malformed('handshake blob list is truncated');
  const ids: string[] = [];
  for (let i = 0; i < count; i++, at += BLOB_ID_BYTES) ids.push(body.toString('hex', at, at + BLOB_ID_BYTES));
  return { ids, end: at };
}

function malformed(message: string): ProtocolError {
  return new ProtocolError('KRAKEN_P2P_MALFORMED_MESSAGE', message);
}
