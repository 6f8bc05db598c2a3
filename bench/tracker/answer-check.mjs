// The checks of sampled answers: decoded by the protocol's own decoder (binary) or schema (JSON)
// and held against the request they answer. A batch answer must have one answer per blob sent,
// and a blob sent complete with `want: 0` (a seeder, which never dials) must get no peers; no
// answer may name the requester, and the interval must be the tracker's. Counted, never thrown:
// the report says how many sampled answers were wrong and how.
import {
  announceBatchResponseSchema,
  announceResponseSchema,
  decodeAnnounceAnswer,
  decodeAnnounceBatchAnswer,
} from '@kraken/p2p-core';

/** `{ answers: [{ peers }], intervalSeconds }` from the answer's bytes, or why not. */
function decoder({ batched, json }) {
  if (json) {
    const schema = batched ? announceBatchResponseSchema : announceResponseSchema;
    return (bytes) => {
      let parsed;
      try {
        parsed = schema.safeParse(JSON.parse(bytes.toString('utf8')));
      } catch (err) {
        return { ok: false, reason: `not JSON: ${err.message}` };
      }
      if (!parsed.success) return { ok: false, reason: parsed.error.issues[0]?.message ?? 'invalid' };
      return { ok: true, value: batched ? parsed.data : { ...parsed.data, answers: [parsed.data] } };
    };
  }
  if (batched) return decodeAnnounceBatchAnswer;
  return (bytes) => {
    const decoded = decodeAnnounceAnswer(bytes);
    return decoded.ok ? { ok: true, value: { ...decoded.value, answers: [decoded.value] } } : decoded;
  };
}

/**
 * @param {{ batched: boolean, json: boolean, intervalSeconds: number }} options
 * @returns {{ sampled: Record<string, number | string>, check(sent: { peerId: string, body: string, answer: Buffer }): void }}
 */
export function createAnswerCheck({ batched, json, intervalSeconds }) {
  const decode = decoder({ batched, json });
  const sampled = {
    /** Sampled answers (requests), and the blobs' answers in them. */
    answers: 0,
    blobAnswers: 0,
    invalid: 0,
    /** Batch answers whose count of answers was not the count of blobs sent. */
    wrongAnswerCount: 0,
    peers: 0,
    complete: 0,
    origins: 0,
    self: 0,
    /** Answers to blobs sent with `want: 0`, and the peers handed to them (none, rightly). */
    seederAnswers: 0,
    seederPeers: 0,
    wrongInterval: 0,
  };

  return {
    sampled,
    check({ peerId, body, answer }) {
      sampled.answers += 1;
      const decoded = decode(answer);
      if (!decoded.ok) {
        sampled.invalid += 1;
        sampled.firstInvalid ??= decoded.reason;
        return;
      }
      const { answers } = decoded.value;
      // The request is parsed only here, for the few answers sampled.
      const entries = batched ? JSON.parse(body).blobs : [{}];
      if (answers.length !== entries.length) sampled.wrongAnswerCount += 1;
      sampled.blobAnswers += answers.length;
      answers.forEach(({ peers }, i) => {
        sampled.peers += peers.length;
        if (entries[i]?.want === 0) {
          sampled.seederAnswers += 1;
          sampled.seederPeers += peers.length;
        }
        for (const peer of peers) {
          if (peer.complete) sampled.complete += 1;
          if (peer.origin) sampled.origins += 1;
          if (peer.peerId === peerId) sampled.self += 1;
        }
      });
      if (decoded.value.intervalSeconds !== intervalSeconds) sampled.wrongInterval += 1;
    },
  };
}
