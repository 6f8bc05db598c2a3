/**
 * The two frames of the cluster token challenge, which precede the handshake on every
 * connection of a cluster that runs with a token (`p2p.clusterTokenFile`):
 *
 *   0x0a challenge  u16 version · 32 B nonce   (the first frame, from both sides at once)
 *   0x0b proof      32 B HMAC-SHA256           (after the peer's challenge arrived)
 *
 * Both are fixed-size and never appear after the handshake, so they are parsed by the
 * challenge itself (conn/cluster-token-challenge.ts), not by the frame decoder. Like the
 * handshake, the challenge carries the protocol version first, so a peer of another
 * version is told so before anything else.
 */
import { FRAME_HEADER_BYTES } from './messages.js';

export const CHALLENGE_TYPE = 0x0a;
export const PROOF_TYPE = 0x0b;
/** Random bytes each side contributes to a connection's challenge. */
export const NONCE_BYTES = 32;
/** An HMAC-SHA256. */
export const PROOF_BYTES = 32;
export const CHALLENGE_FRAME_BYTES = FRAME_HEADER_BYTES + 2 + NONCE_BYTES;
export const PROOF_FRAME_BYTES = FRAME_HEADER_BYTES + PROOF_BYTES;

export function encodeChallengeFrame(version: number, nonce: Uint8Array): Buffer {
  if (nonce.byteLength !== NONCE_BYTES) throw new RangeError(`a nonce is ${NONCE_BYTES} bytes`);
  const frame = Buffer.allocUnsafe(CHALLENGE_FRAME_BYTES);
  frame.writeUInt32BE(CHALLENGE_FRAME_BYTES - 4, 0);
  frame.writeUInt8(CHALLENGE_TYPE, 4);
  frame.writeUInt16BE(version, FRAME_HEADER_BYTES);
  frame.set(nonce, FRAME_HEADER_BYTES + 2);
  return frame;
}

export function encodeProofFrame(proof: Uint8Array): Buffer {
  if (proof.byteLength !== PROOF_BYTES) throw new RangeError(`a proof is ${PROOF_BYTES} bytes`);
  const frame = Buffer.allocUnsafe(PROOF_FRAME_BYTES);
  frame.writeUInt32BE(PROOF_FRAME_BYTES - 4, 0);
  frame.writeUInt8(PROOF_TYPE, 4);
  frame.set(proof, FRAME_HEADER_BYTES);
  return frame;
}

/** What the first 5 bytes of a frame say: its length field and type. */
export function frameHeaderOf(bytes: Buffer): { length: number; type: number } {
  return { length: bytes.readUInt32BE(0), type: bytes.readUInt8(4) };
}
