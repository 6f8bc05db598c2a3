/**
 * The cluster token challenge: how two peers of a cluster without TLS prove to each other
 * that they hold the cluster token before either of them names a blob. Each side sends a
 * fresh random nonce (the challenge frame) and proves itself with
 *
 *   HMAC-SHA256(token, CONTEXT · u8 n · cluster id · dialer nonce · listener nonce · role)
 *
 * where role is its own (1 dialer, 2 listener); the other side computes the same for that
 * role and compares with a constant-time compare. The dialer proves itself first, as soon
 * as the listener's nonce arrives; the listener answers with its own proof only once the
 * dialer's checked out, so whoever dials in without the token is refused (and counted) by
 * the listener, and never gets a proof computed for a nonce of its choosing.
 *
 * The token never crosses the wire; both nonces make every proof good for one connection
 * only, and the role byte keeps a peer from handing our own proof back to us. Only a side
 * that has checked the peer's proof sends its handshake (conn/peer-conn.ts), so an outsider
 * learns no blob id.
 *
 * What this does not give: secrecy or integrity of what follows. Someone who can relay
 * both ends of a connection between two members sees and may alter the traffic after the
 * challenge; the `tls` mode is the one for networks that cannot be trusted that far.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ProtocolError } from '../errors.js';
import {
  CHALLENGE_FRAME_BYTES,
  CHALLENGE_TYPE,
  PROOF_FRAME_BYTES,
  PROOF_TYPE,
  encodeChallengeFrame,
  encodeProofFrame,
  frameHeaderOf,
} from '../wire/membership-frames.js';
import { FRAME_HEADER_BYTES, MessageType, PROTOCOL_VERSION } from '../wire/messages.js';
import { ConnectionError } from './conn-errors.js';

/** Outbound: this side dialed. The same words as a PeerConn's direction. */
type Direction = 'outbound' | 'inbound';

/** Domain separation: these MACs mean nothing anywhere else the token might be used. */
const CONTEXT = Buffer.from('kraken p2p cluster token challenge v1\0', 'latin1');
const ROLE_BYTE: Readonly<Record<Direction, number>> = { outbound: 1, inbound: 2 };

export interface TokenChallengeOptions {
  /** The cluster token's bytes. */
  readonly token: Buffer;
  readonly clusterId: string;
  /** Outbound: we dialed (the dialer's nonce comes first in every MAC). */
  readonly direction: Direction;
  /** Our nonce: NONCE_BYTES fresh random bytes. */
  readonly nonce: Buffer;
}

export type ChallengeStep =
  /** Waiting for more bytes; `send` (our proof) goes out now if set. */
  | { readonly state: 'pending'; readonly send: Buffer | undefined }
  /** The peer holds the token; `send` goes out first, `rest` is what followed its proof. */
  | { readonly state: 'proven'; readonly send: Buffer | undefined; readonly rest: Buffer }
  | { readonly state: 'refused'; readonly error: ConnectionError | ProtocolError };

export interface TokenChallenge {
  /** The first frame this side sends: its challenge. */
  readonly opening: Buffer;
  /** Bytes from the peer, in order. Once it answered 'proven' or 'refused', feed no more. */
  feed(chunk: Buffer): ChallengeStep;
}

export function createTokenChallenge(options: TokenChallengeOptions): TokenChallenge {
  const { token, clusterId, direction, nonce } = options;
  const opening = encodeChallengeFrame(PROTOCOL_VERSION, nonce);
  let held: Buffer = Buffer.alloc(0);
  let peerNonce: Buffer | undefined;

  function proof(role: Direction, ours: Buffer, theirs: Buffer): Buffer {
    const [dialerNonce, listenerNonce] = direction === 'outbound' ? [ours, theirs] : [theirs, ours];
    const id = Buffer.from(clusterId, 'latin1');
    return createHmac('sha256', token)
      .update(CONTEXT)
      .update(Buffer.of(id.length))
      .update(id)
      .update(dialerNonce)
      .update(listenerNonce)
      .update(Buffer.of(ROLE_BYTE[role]))
      .digest();
  }

  function refused(reason: 'token' | 'no-token', message: string): ChallengeStep {
    return {
      state: 'refused',
      error: new ConnectionError('KRAKEN_P2P_PEER_REFUSED', message, { detail: { reason } }),
    };
  }

  function readChallenge(): ChallengeStep | undefined {
    if (held.length < FRAME_HEADER_BYTES) return undefined;
    const { length, type } = frameHeaderOf(held);
    if (type === MessageType.handshake) {
      return refused(
        'no-token',
        'peer sent its handshake without the cluster token challenge (clusterTokenFile must be set on every peer, or on none)',
      );
    }
    if (type !== CHALLENGE_TYPE || length !== CHALLENGE_FRAME_BYTES - 4) {
      return {
        state: 'refused',
        error: new ProtocolError(
          'KRAKEN_P2P_HANDSHAKE_EXPECTED',
          `first frame has type 0x${type.toString(16)}, not the cluster token challenge`,
        ),
      };
    }
    if (held.length < FRAME_HEADER_BYTES + 2) return undefined;
    const version = held.readUInt16BE(FRAME_HEADER_BYTES);
    if (version !== PROTOCOL_VERSION) {
      return {
        state: 'refused',
        error: new ProtocolError(
          'KRAKEN_P2P_VERSION_MISMATCH',
          `peer speaks protocol version ${version}, this peer speaks ${PROTOCOL_VERSION}`,
          { version, expected: PROTOCOL_VERSION },
        ),
      };
    }
    if (held.length < CHALLENGE_FRAME_BYTES) return undefined;
    peerNonce = Buffer.from(held.subarray(FRAME_HEADER_BYTES + 2, CHALLENGE_FRAME_BYTES));
    held = held.subarray(CHALLENGE_FRAME_BYTES);
    // Our own nonce handed back is a reflection, never a peer's fresh one.
    if (peerNonce.equals(nonce)) return refused('token', 'peer answered our challenge with our own nonce');
    return { state: 'pending', send: direction === 'outbound' ? ownProof(peerNonce) : undefined };
  }

  function ownProof(theirs: Buffer): Buffer {
    return encodeProofFrame(proof(direction, nonce, theirs));
  }

  function readProof(theirs: Buffer): ChallengeStep | undefined {
    if (held.length < FRAME_HEADER_BYTES) return undefined;
    const { length, type } = frameHeaderOf(held);
    if (type !== PROOF_TYPE || length !== PROOF_FRAME_BYTES - 4) {
      return refused('token', `peer sent a frame of type 0x${type.toString(16)} instead of its proof`);
    }
    if (held.length < PROOF_FRAME_BYTES) return undefined;
    const expected = proof(direction === 'outbound' ? 'inbound' : 'outbound', nonce, theirs);
    const answered = held.subarray(FRAME_HEADER_BYTES, PROOF_FRAME_BYTES);
    if (!timingSafeEqual(expected, answered)) {
      return refused('token', 'peer does not hold the cluster token (its proof does not match)');
    }
    // The listener's proof goes out only now, to a dialer that proved itself.
    return {
      state: 'proven',
      send: direction === 'inbound' ? ownProof(theirs) : undefined,
      rest: held.subarray(PROOF_FRAME_BYTES),
    };
  }

  return {
    opening,
    feed(chunk) {
      held = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
      let send: Buffer | undefined;
      if (peerNonce === undefined) {
        const step = readChallenge();
        if (step === undefined) return { state: 'pending', send: undefined };
        if (step.state !== 'pending') return step;
        send = step.send;
      }
      const theirs = peerNonce;
      const step = theirs === undefined ? undefined : readProof(theirs);
      if (step === undefined) return { state: 'pending', send };
      if (step.state === 'proven') return { ...step, send: step.send ?? send };
      return step;
    },
  };
}
