import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../wire/frame-encoder.js';
import { CHALLENGE_FRAME_BYTES, encodeChallengeFrame, PROOF_FRAME_BYTES } from '../wire/membership-frames.js';
import { PROTOCOL_VERSION } from '../wire/messages.js';
import { createTokenChallenge, type ChallengeStep, type TokenChallenge } from './cluster-token-challenge.js';

const TOKEN = Buffer.from('0123456789abcdef0123456789abcdef');
const OTHER_TOKEN = Buffer.from('fedcba9876543210fedcba9876543210');

function side(direction: 'outbound' | 'inbound', token = TOKEN, nonce = randomBytes(32)): TokenChallenge {
  return createTokenChallenge({ token, clusterId: 'east', direction, nonce });
}

/** Runs both sides to the end, each fed the other's bytes `chunk` bytes at a time. */
function exchange(dialer: TokenChallenge, listener: TokenChallenge, chunk = Infinity) {
  const sent = { dialer: [dialer.opening], listener: [listener.opening] };
  const result: { dialer?: ChallengeStep; listener?: ChallengeStep } = {};
  const deliver = (from: 'dialer' | 'listener', to: 'dialer' | 'listener', receiver: TokenChallenge) => {
    const bytes = Buffer.concat(sent[from].splice(0));
    for (let at = 0; at < bytes.length && result[to]?.state !== 'refused'; at += chunk) {
      const step = receiver.feed(bytes.subarray(at, Math.min(bytes.length, at + chunk)));
      if (step.state !== 'refused' && step.send !== undefined) sent[to].push(step.send);
      if (step.state !== 'pending') result[to] = step;
    }
  };
  for (let round = 0; round < 3; round++) {
    deliver('dialer', 'listener', listener);
    deliver('listener', 'dialer', dialer);
  }
  return result;
}

describe('the cluster token challenge', () => {
  it.each([1, 7, Infinity])('proves both sides to each other, fed %s bytes at a time', (chunk) => {
    const { dialer, listener } = exchange(side('outbound'), side('inbound'), chunk);
    expect(dialer?.state).toBe('proven');
    expect(listener?.state).toBe('proven');
  });

  it('hands on what followed the proof, for the frame decoder', () => {
    const dialer = side('outbound');
    const listener = side('inbound');
    const fromListener = [listener.opening];
    const afterChallenge = dialer.feed(listener.opening);
    if (afterChallenge.state !== 'pending' || afterChallenge.send === undefined) throw new Error('no proof');
    const listenerStep = listener.feed(Buffer.concat([dialer.opening, afterChallenge.send]));
    expect(listenerStep.state).toBe('proven');
    if (listenerStep.state !== 'proven' || listenerStep.send === undefined) throw new Error('no proof');
    fromListener.push(listenerStep.send);
    const keepalive = encodeMessage({ type: 'keepalive' })[0] as Buffer;
    const dialerStep = dialer.feed(Buffer.concat([listenerStep.send, keepalive]));
    expect(dialerStep).toMatchObject({ state: 'proven' });
    expect(dialerStep.state === 'proven' && dialerStep.rest.equals(keepalive)).toBe(true);
    // What the listener sent is its challenge and its proof: no token in it.
    const wire = Buffer.concat(fromListener);
    expect(wire.length).toBe(CHALLENGE_FRAME_BYTES + PROOF_FRAME_BYTES);
    expect(wire.includes(TOKEN)).toBe(false);
  });

  it('has the listener refuse a dialer with another token before it proves anything itself', () => {
    const { dialer, listener } = exchange(side('outbound', OTHER_TOKEN), side('inbound'));
    expect(listener).toMatchObject({
      state: 'refused',
      error: { code: 'KRAKEN_P2P_PEER_REFUSED', detail: { reason: 'token' } },
    });
    // The dialer got the listener's challenge, never a proof to try its token against.
    expect(dialer).toBeUndefined();
  });

  it('has the dialer refuse a listener whose proof is wrong, or is its own handed back', () => {
    const dialer = side('outbound');
    const answer = dialer.feed(side('inbound').opening);
    if (answer.state !== 'pending' || answer.send === undefined) throw new Error('the dialer proves first');
    expect(dialer.feed(answer.send)).toMatchObject({
      state: 'refused',
      error: { detail: { reason: 'token' } },
    });
    const another = side('outbound');
    another.feed(side('inbound').opening);
    const forged = Buffer.concat([answer.send.subarray(0, 5), randomBytes(32)]);
    expect(another.feed(forged)).toMatchObject({ state: 'refused', error: { detail: { reason: 'token' } } });
  });

  it('refuses a challenge that carries our own nonce', () => {
    const nonce = randomBytes(32);
    expect(side('inbound', TOKEN, nonce).feed(encodeChallengeFrame(PROTOCOL_VERSION, nonce))).toMatchObject({
      state: 'refused',
      error: { detail: { reason: 'token' } },
    });
  });

  it('refuses a proof from another connection (other nonces)', () => {
    const first = exchange(side('outbound'), side('inbound'));
    expect(first.listener?.state).toBe('proven');
    // Capture a dialer's proof for one listener nonce, replay it against another listener.
    const dialer = side('outbound');
    const listenerA = side('inbound');
    const proofForA = dialer.feed(listenerA.opening);
    if (proofForA.state !== 'pending' || proofForA.send === undefined) throw new Error('no proof');
    const listenerB = side('inbound');
    listenerB.feed(dialer.opening);
    expect(listenerB.feed(proofForA.send)).toMatchObject({ state: 'refused' });
  });

  it('names a peer that skipped the challenge, and one of another version', () => {
    const handshake = encodeMessage({
      type: 'handshake',
      version: PROTOCOL_VERSION,
      clusterId: 'east',
      peerId: 'a'.repeat(40),
      offered: [],
      wanted: ['b'.repeat(64)],
    })[0] as Buffer;
    expect(side('inbound').feed(handshake)).toMatchObject({
      state: 'refused',
      error: { code: 'KRAKEN_P2P_PEER_REFUSED', detail: { reason: 'no-token' } },
    });
    expect(side('inbound').feed(encodeChallengeFrame(PROTOCOL_VERSION + 1, randomBytes(32)))).toMatchObject({
      state: 'refused',
      error: { name: 'ProtocolError', code: 'KRAKEN_P2P_VERSION_MISMATCH' },
    });
  });
});
