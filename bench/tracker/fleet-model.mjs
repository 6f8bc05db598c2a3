// The simulated fleet: agents, each with a fixed number of active blobs (its "slots"), and origins
// that seed the whole catalog. Blobs are drawn from a catalog by a Zipf popularity, so a few
// swarms hold most agents (base layers of a rollout) and a long tail holds few. Everything is
// seeded: the same flags give the same fleet and the same churn.
//
// A member is one (peer, blob) pair, the unit the tracker stores and the unit that announces.
// Agent members are numbered agent × slots + slot; origin members follow, origin × catalog + blob.
// Churn, decided when a member announces: a downloading member completes with probability
// `completeShare` (it announces complete: true from then on); a completed member leaves with
// probability `leaveShare`: it stops announcing (the tracker forgets it after its TTL, as a real
// agent that evicted the blob) and the agent takes up a new blob in that slot, downloading.
//
// A request ("unit") carries up to `batch` members of one peer: as the agents do, whose announce
// timers share one tick per interval and whose batcher sends one request per tracker. An agent's
// slots split into ceil(slots ÷ batch) units, an origin's catalog into chunks of `batch`; units are
// numbered in member order, so a unit's members are contiguous. With `batch` 1 a unit is a member
// and its request the single announce (POST /v1/announce).
import { createHash } from 'node:crypto';

/** mulberry32: a small seeded generator, uniform in [0, 1). */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const hex = (text, length) => createHash('sha256').update(text).digest('hex').slice(0, length);

/** Cumulative Zipf weights over `n` ranks with exponent `s`. */
function zipfCdf(n, s) {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += 1 / (i + 1) ** s;
    cdf[i] = sum;
  }
  for (let i = 0; i < n; i++) cdf[i] /= sum;
  return cdf;
}

export function createFleet(options) {
  const { agents, blobsPerAgent, catalog, zipf, origins, completeShare, leaveShare, batch = 1 } = options;
  if (blobsPerAgent > catalog) throw new Error('--blobs must not exceed --catalog');
  const random = seededRandom(options.seed);
  const digests = Array.from({ length: catalog }, (_, i) => `sha256:${hex(`bench blob ${i}`, 64)}`);
  const cdf = zipfCdf(catalog, zipf);
  const pick = () => {
    const u = random();
    let lo = 0;
    let hi = catalog - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  const agentMembers = agents * blobsPerAgent;
  const originMembers = origins * catalog;
  const slotBlob = new Int32Array(agentMembers);
  /** 0: downloading, 1: complete. */
  const slotComplete = new Uint8Array(agentMembers);
  const holds = (agent, blob) => {
    for (let s = agent * blobsPerAgent, end = s + blobsPerAgent; s < end; s++) {
      if (slotBlob[s] === blob) return true;
    }
    return false;
  };
  const pickNew = (agent) => {
    for (;;) {
      const blob = pick();
      if (!holds(agent, blob)) return blob;
    }
  };
  slotBlob.fill(-1);
  for (let a = 0; a < agents; a++) {
    for (let s = 0; s < blobsPerAgent; s++) slotBlob[a * blobsPerAgent + s] = pickNew(a);
  }

  const agentUnitsEach = Math.ceil(blobsPerAgent / batch);
  const originUnitsEach = Math.ceil(catalog / batch);
  const agentUnits = agents * agentUnitsEach;
  const originUnits = origins * originUnitsEach;
  /** Unit u holds members unitStart[u] to unitStart[u + 1] - 1. */
  const unitStart = new Uint32Array(agentUnits + originUnits + 1);
  let unit = 0;
  for (let a = 0; a < agents; a++) {
    for (let s = 0; s < blobsPerAgent; s += batch) unitStart[unit++] = a * blobsPerAgent + s;
  }
  for (let o = 0; o < origins; o++) {
    for (let b = 0; b < catalog; b += batch) unitStart[unit++] = agentMembers + o * catalog + b;
  }
  unitStart[unit] = agentMembers + originMembers;

  // A request's JSON is a prefix built once per peer, then the blob's part: the digest and a
  // suffix for a single announce, an entry per member for a batch (both entries of every blob
  // built once, so a batch of 50 is 50 concatenations).
  const agentPeerIds = Array.from({ length: agents }, (_, a) => hex(`bench agent ${a}`, 40));
  const originPeerIds = Array.from({ length: origins }, (_, o) => hex(`bench origin ${o}`, 40));
  const agentAddress = (a) => `{"host":"10.${(a >> 16) & 255}.${(a >> 8) & 255}.${a & 255}","port":16001}`;
  const originAddress = (o) => `{"host":"10.255.0.${o + 1}","port":15001}`;
  const prefixOf =
    batch === 1
      ? (peerId, address) => `{"peerId":"${peerId}","address":${address},"blob":"`
      : (peerId, address, origin) =>
          `{"peerId":"${peerId}","address":${address},"origin":${origin},"blobs":[`;
  const agentPrefix = agentPeerIds.map((id, a) => prefixOf(id, agentAddress(a), false));
  const originPrefix = originPeerIds.map((id, o) => prefixOf(id, originAddress(o), true));
  // A seeder never dials, so it asks for no peers (want 0); a downloader takes the tracker's limit.
  const downloadingEntry = batch === 1 ? [] : digests.map((d) => `{"blob":"${d}","complete":false}`);
  const completeEntry = batch === 1 ? [] : digests.map((d) => `{"blob":"${d}","complete":true,"want":0}`);
  const counts = { completed: 0, left: 0 };

  /** The single announce of `member`. */
  const singleBody = (member) => {
    if (member >= agentMembers) {
      const m = member - agentMembers;
      const origin = (m / catalog) | 0;
      return `${originPrefix[origin]}${digests[m % catalog]}","complete":true,"origin":true}`;
    }
    const agent = (member / blobsPerAgent) | 0;
    const complete = slotComplete[member] === 1 ? 'true' : 'false';
    return `${agentPrefix[agent]}${digests[slotBlob[member]]}","complete":${complete}}`;
  };

  const agentEntry = (member) =>
    slotComplete[member] === 1 ? completeEntry[slotBlob[member]] : downloadingEntry[slotBlob[member]];

  /** The batch announce of the members `first` to `end` - 1, all of one peer. */
  const batchBody = (first, end) => {
    if (first >= agentMembers) {
      const m = first - agentMembers;
      const blob = m % catalog;
      let body = originPrefix[(m / catalog) | 0] + completeEntry[blob];
      for (let b = blob + 1, last = blob + end - first; b < last; b++) body += `,${completeEntry[b]}`;
      return `${body}]}`;
    }
    let body = agentPrefix[(first / blobsPerAgent) | 0] + agentEntry(first);
    for (let member = first + 1; member < end; member++) body += `,${agentEntry(member)}`;
    return `${body}]}`;
  };

  return {
    digests,
    agentMembers,
    originMembers,
    members: agentMembers + originMembers,
    agentUnits,
    originUnits,
    units: agentUnits + originUnits,
    unitStart,
    counts,
    isOrigin: (member) => member >= agentMembers,

    /** The announcing peer's id of a unit. */
    peerIdOf(unit) {
      const first = unitStart[unit];
      return first >= agentMembers
        ? originPeerIds[((first - agentMembers) / catalog) | 0]
        : agentPeerIds[(first / blobsPerAgent) | 0];
    },

    /** The request body of the unit's next announce. */
    body(unit) {
      return batch === 1 ? singleBody(unit) : batchBody(unitStart[unit], unitStart[unit + 1]);
    },

    /** Applies churn after an announce; `churn` false in phases that keep the fleet still. */
    announced(member, churn) {
      if (!churn || member >= agentMembers) return;
      if (slotComplete[member] === 0) {
        if (random() < completeShare) {
          slotComplete[member] = 1;
          counts.completed += 1;
        }
      } else if (random() < leaveShare) {
        const agent = (member / blobsPerAgent) | 0;
        slotBlob[member] = pickNew(agent);
        slotComplete[member] = 0;
        counts.left += 1;
      }
    },

    /** Units in a seeded random order: the announce schedule's round robin. */
    schedule() {
      const order = new Uint32Array(agentUnits + originUnits);
      for (let i = 0; i < order.length; i++) order[i] = i;
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        const t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      return order;
    },

    /** Swarm sizes at the start: members per blob, largest first. */
    swarmSizes() {
      const sizes = new Uint32Array(catalog);
      for (const blob of slotBlob) sizes[blob] += 1;
      return Array.from(sizes).sort((a, b) => b - a);
    },
  };
}
