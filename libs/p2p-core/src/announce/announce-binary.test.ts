import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ANNOUNCE_BATCH_BINARY_TYPE,
  ANNOUNCE_BINARY_TYPE,
  acceptsBinaryAnswer,
  decodeAnnounceAnswer,
  decodeAnnounceBatchAnswer,
  encodeAnnounceHeader,
  encodeAnnouncedPeer,
  encodePeerCount,
} from './announce-binary.js';
import { MAX_ANNOUNCE_PEERS, announceResponseSchema, type AnnouncedPeer } from './announce-protocol.js';

const peer = (over: Partial<AnnouncedPeer> = {}): AnnouncedPeer => ({
  peerId: '0123456789abcdef0123456789abcdef01234567',
  host: '10.0.0.1',
  port: 16001,
  complete: false,
  origin: false,
  ...over,
});

const answerOf = (intervalSeconds: number, peers: AnnouncedPeer[], count = peers.length) =>
  Buffer.concat([
    encodeAnnounceHeader(intervalSeconds),
    Buffer.from([count >> 8, count & 255]),
    ...peers.map(encodeAnnouncedPeer),
  ]);
/** Where the first peer's record starts. */
const FIRST = 7;

const reasonOf = (bytes: Uint8Array) => {
  const decoded = decodeAnnounceAnswer(bytes);
  return decoded.ok ? 'decoded' : decoded.reason;
};

describe('binary announce answer', () => {
  it('round-trips peers of every kind of host and flags', () => {
    const peers = [
      peer(),
      peer({ host: 'fd00::1', port: 1, complete: true }),
      peer({ host: 'node-7.pool.example', port: 65535, origin: true, complete: true }),
      peer({ peerId: 'f'.repeat(40), host: '192.168.100.200', origin: true }),
    ];
    expect(decodeAnnounceAnswer(answerOf(3, peers))).toEqual({
      ok: true,
      value: { peers, intervalSeconds: 3 },
    });
    expect(decodeAnnounceAnswer(answerOf(0.5, []))).toEqual({
      ok: true,
      value: { peers: [], intervalSeconds: 0.5 },
    });
  });

  it('is about a third of the JSON for the same peers', () => {
    const peers = Array.from({ length: 50 }, (_, i) => peer({ host: `10.0.${i}.1`, complete: i % 2 === 0 }));
    const json = Buffer.byteLength(JSON.stringify({ peers, intervalSeconds: 3 }));
    expect(answerOf(3, peers).length).toBeLessThan(json / 2.5);
  });

  it('decodes what the JSON schema accepts, for any valid peers', () => {
    const peerArb = fc.record({
      peerId: fc.stringMatching(/^[a-f0-9]{40}$/),
      host: fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain()),
      port: fc.integer({ min: 1, max: 65535 }),
      complete: fc.boolean(),
      origin: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(peerArb, { maxLength: 60 }),
        fc.integer({ min: 1, max: 86_400 }),
        (peers, interval) => {
          // Hosts the protocol refuses are not sent by a tracker (it validates every announce).
          const valid = peers.filter(
            (p) => announceResponseSchema.safeParse({ peers: [p], intervalSeconds: 1 }).success,
          );
          const decoded = decodeAnnounceAnswer(answerOf(interval, valid));
          expect(decoded).toEqual({ ok: true, value: { peers: valid, intervalSeconds: interval } });
        },
      ),
      { numRuns: 200 },
    );
  });

  it.each([
    ['an empty body', Buffer.alloc(0), /shorter than the header/],
    ['a header without its count', Buffer.from([1, 0, 0, 11, 184]), /shorter than the header/],
    ['another version', Buffer.from([2, 0, 0, 11, 184, 0, 0]), /unknown version 2/],
    ['an interval of zero', Buffer.from([1, 0, 0, 0, 0, 0, 0]), /interval of 0 ms/],
    ['an interval over a day', Buffer.from([1, 0xff, 0xff, 0xff, 0xff, 0, 0]), /out of range/],
  ])('refuses %s', (_what, bytes, reason) => {
    expect(reasonOf(bytes)).toMatch(reason);
  });

  it('refuses a peer cut short anywhere, even between two records, and bytes past the last', () => {
    const whole = answerOf(3, [peer(), peer({ host: 'node-1.example' })]);
    for (let cut = whole.length - 1; cut >= FIRST; cut--) {
      expect(reasonOf(whole.subarray(0, cut))).toMatch(/cut short/);
    }
    expect(reasonOf(Buffer.concat([whole, Buffer.from([0])]))).toMatch(/1 bytes after the last peer/);
    expect(reasonOf(answerOf(3, [peer(), peer()], 1))).toMatch(/bytes after the last peer/);
  });

  it('refuses unknown flags, port 0 and hosts the protocol does not allow', () => {
    const withByte = (offset: number, value: number, host = '10.0.0.1') => {
      const bytes = answerOf(3, [peer({ host })]);
      bytes[FIRST + offset] = value;
      return bytes;
    };
    expect(reasonOf(withByte(20, 4))).toMatch(/unknown flags 4/);
    const port0 = answerOf(3, [peer()]);
    port0.writeUInt16BE(0, FIRST + 21);
    expect(reasonOf(port0)).toMatch(/port 0/);
    // A host with a zone id, with a space, with a byte beyond ASCII, and an empty one.
    expect(reasonOf(answerOf(3, [peer({ host: 'fe80::1%eth0' })]))).toMatch(/invalid host/);
    expect(reasonOf(answerOf(3, [peer({ host: 'a b' })]))).toMatch(/invalid host/);
    expect(reasonOf(withByte(24, 0xe9))).toMatch(/invalid host/);
    const empty = Buffer.concat([
      encodeAnnounceHeader(3),
      encodePeerCount(1),
      encodeAnnouncedPeer(peer()).subarray(0, 24),
    ]);
    empty[FIRST + 23] = 0;
    expect(reasonOf(empty)).toMatch(/invalid host/);
  });

  it('refuses more peers than any tracker hands out', () => {
    const many = Array.from({ length: MAX_ANNOUNCE_PEERS + 1 }, () => peer());
    expect(reasonOf(answerOf(3, many))).toMatch(/1001 peers, more than 1000/);
    expect(reasonOf(answerOf(3, many.slice(1)))).toBe('decoded');
    expect(() => encodePeerCount(MAX_ANNOUNCE_PEERS + 1)).toThrow(RangeError);
  });

  it('refuses to encode what it could not decode', () => {
    expect(() => encodeAnnounceHeader(0)).toThrow(RangeError);
    expect(() => encodeAnnounceHeader(86_401)).toThrow(RangeError);
    expect(() => encodeAnnouncedPeer(peer({ peerId: 'xyz' }))).toThrow(/peer id/);
    expect(() => encodeAnnouncedPeer(peer({ host: 'a'.repeat(254) }))).toThrow(/host/);
  });

  it.each([
    ['application/vnd.kraken.announce-answer.v1', true],
    ['application/vnd.kraken.announce-answer.v1, application/json;q=0.5', true],
    ['application/json, Application/VND.Kraken.Announce-Answer.V1;q=0.9', true],
    ['application/vnd.kraken.announce-answer.v1;q=0', false],
    ['application/vnd.kraken.announce-answer.v1x', false],
    ['application/json', false],
    ['*/*', false],
    [undefined, false],
  ])('Accept %s asks for the binary answer: %s', (accept, expected) => {
    expect(acceptsBinaryAnswer(accept)).toBe(expected);
  });
});

describe('binary batch answer', () => {
  const count = (n: number) => Buffer.from([n >> 8, n & 255]);
  const batchOf = (intervalSeconds: number, answers: AnnouncedPeer[][], n = answers.length) =>
    Buffer.concat([
      encodeAnnounceHeader(intervalSeconds),
      count(n),
      ...answers.flatMap((peers) => [count(peers.length), ...peers.map(encodeAnnouncedPeer)]),
    ]);
  const answers = [
    [peer(), peer({ host: 'fd00::1', origin: true })],
    [],
    [peer({ host: 'a.example', complete: true })],
  ];
  const reason = (bytes: Uint8Array) => {
    const decoded = decodeAnnounceBatchAnswer(bytes);
    return decoded.ok ? 'decoded' : decoded.reason;
  };

  it("round-trips each blob's peers, in order", () => {
    expect(decodeAnnounceBatchAnswer(batchOf(3, answers))).toEqual({
      ok: true,
      value: { answers: answers.map((peers) => ({ peers })), intervalSeconds: 3 },
    });
    expect(decodeAnnounceBatchAnswer(batchOf(3, []))).toEqual({
      ok: true,
      value: { answers: [], intervalSeconds: 3 },
    });
  });

  it('refuses a batch cut at any byte, or with a byte after the last answer', () => {
    const whole = batchOf(3, answers);
    for (let cut = 0; cut < whole.length; cut++) expect(reason(whole.subarray(0, cut))).not.toBe('decoded');
    expect(reason(Buffer.concat([whole, Buffer.from([0])]))).toMatch(/1 bytes after the last answer/);
    // An answer promised and never sent, and a peer cut short inside the second answer.
    expect(reason(batchOf(3, answers, 4))).toMatch(/answer 3 is cut short/);
    expect(reason(whole.subarray(0, whole.length - 3))).toMatch(/answer 2: peer 0 is cut short/);
  });

  it('refuses more answers than a batch may hold, and a bad peer inside one', () => {
    expect(reason(batchOf(3, [], 1001))).toMatch(/1001 answers, more than 1000/);
    const bad = batchOf(3, [[peer()], [peer()]]);
    bad.writeUInt16BE(0, bad.length - 8 - 3); // the second peer's port
    expect(reason(bad)).toMatch(/answer 1: peer 0 has port 0/);
  });

  it("is asked for by its own type, not by the single answer's", () => {
    expect(acceptsBinaryAnswer(ANNOUNCE_BATCH_BINARY_TYPE, ANNOUNCE_BATCH_BINARY_TYPE)).toBe(true);
    expect(acceptsBinaryAnswer(ANNOUNCE_BINARY_TYPE, ANNOUNCE_BATCH_BINARY_TYPE)).toBe(false);
    expect(acceptsBinaryAnswer(ANNOUNCE_BATCH_BINARY_TYPE)).toBe(false);
    expect(acceptsBinaryAnswer(`${ANNOUNCE_BATCH_BINARY_TYPE};q=0`, ANNOUNCE_BATCH_BINARY_TYPE)).toBe(false);
  });
});
