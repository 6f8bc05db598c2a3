// The load generator: a child process of the bench (pinned to its own core) that plays the
// simulated fleet (fleet-model.mjs) against one tracker over HTTP/1.1 keep-alive connections,
// speaking the real announce protocol (POST /v1/announce, JSON). Its client
// (announce-connections.mjs) reads every answer into one reused buffer: nothing is allocated
// per read, so that the generator's own garbage collection does not hold answers it has
// received and count the wait as the tracker's latency. It reports its GC time and the longest
// stall of its event loop every second.
//
// Phases come from the bench in the start message; the generator starts each on "continue" and
// reports at its end, so the bench can read the tracker's memory between phases.
// - closed: `concurrency` announces in flight, each completion sends the next (as fast as the
//   tracker answers); `members: 'origins'` limits it to the origins' members (the seed phase).
// - open: announces at a fixed rate (members ÷ interval), paced every millisecond, whatever the
//   tracker's latency; at most `maxOutstanding` in flight, past which the generator falls behind
//   its schedule and says so (`behindMs`).
// Every second it sends a tick: announces sent and answered, failures, the latency histogram
// of the answers in that second, its own CPU time, and how far behind its schedule it is.
// Every `sampleEvery`-th answer is parsed and checked against the protocol's response schema.
import { PerformanceObserver } from 'node:perf_hooks';
import { ANNOUNCE_BINARY_TYPE, announceResponseSchema, decodeAnnounceAnswer } from '@kraken/p2p-core';
import { createAnnounceConnections } from './announce-connections.mjs';
import { createFleet } from './fleet-model.mjs';
import { createHistogram, record, toSparse } from './latency-histogram.mjs';

function send(message) {
  return new Promise((resolve) => process.send(message, resolve));
}

function nextMessage(type) {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (message?.type !== type) return;
      process.off('message', onMessage);
      resolve(message);
    };
    process.on('message', onMessage);
  });
}

async function run(options) {
  const fleet = createFleet(options.fleet);
  const order = fleet.schedule();
  const url = new URL(options.url);
  const pool = createAnnounceConnections({
    host: url.hostname,
    port: Number(url.port),
    connections: options.connections,
    // The agents ask for the binary answer (and take JSON from a tracker without it).
    accept:
      options.answer === 'json' ? 'application/json' : `${ANNOUNCE_BINARY_TYPE}, application/json;q=0.5`,
  });
  const rate = fleet.members / options.intervalSeconds;
  await send({
    type: 'ready',
    fleet: {
      members: fleet.members,
      agentMembers: fleet.agentMembers,
      originMembers: fleet.originMembers,
      offeredPerSecond: rate,
      swarmSizes: fleet.swarmSizes(),
    },
  });
  let cursor = 0;
  let originCursor = 0;
  let phase;
  let churn = false;
  let inflight = 0;
  let sentTotal = 0;

  // Per-second counters, reset by each tick.
  let second = { sent: 0, ok: 0, failed: 0, histogram: createHistogram() };
  let whole = { sent: 0, ok: 0, failed: 0, histogram: createHistogram() };
  const failures = new Map();
  const sampled = { answers: 0, invalid: 0, peers: 0, complete: 0, origins: 0, self: 0, wrongInterval: 0 };
  const fail = (why) => {
    second.failed += 1;
    whole.failed += 1;
    failures.set(why, (failures.get(why) ?? 0) + 1);
  };

  const check = (member, bytes) => {
    sampled.answers += 1;
    let parsed;
    if (options.answer === 'json') {
      try {
        parsed = announceResponseSchema.safeParse(JSON.parse(bytes.toString('utf8')));
      } catch {
        parsed = { success: false };
      }
    } else {
      const decoded = decodeAnnounceAnswer(bytes);
      parsed = decoded.ok ? { success: true, data: decoded.value } : { success: false };
    }
    if (!parsed.success) {
      sampled.invalid += 1;
      return;
    }
    const { peers, intervalSeconds } = parsed.data;
    const self = fleet.body(member).slice(11, 51);
    sampled.peers += peers.length;
    for (const peer of peers) {
      if (peer.complete) sampled.complete += 1;
      if (peer.origin) sampled.origins += 1;
      if (peer.peerId === self) sampled.self += 1;
    }
    if (intervalSeconds !== options.intervalSeconds) sampled.wrongInterval += 1;
  };

  /** Sends one announce of `member`; `done` runs when it is answered or failed. */
  const announce = (member, done) => {
    const body = fleet.body(member);
    fleet.announced(member, churn);
    const sample = sentTotal % options.sampleEvery === 0;
    sentTotal += 1;
    second.sent += 1;
    whole.sent += 1;
    inflight += 1;
    const started = performance.now();
    pool.announce(body, sample, (status, text, error) => {
      inflight -= 1;
      if (error !== undefined) {
        fail(error);
        done();
        return;
      }
      const us = (performance.now() - started) * 1000;
      record(second.histogram, us);
      record(whole.histogram, us);
      if (status === 200) {
        second.ok += 1;
        whole.ok += 1;
      } else fail(`HTTP ${status}`);
      if (text !== undefined && status === 200) check(member, text);
      done();
    });
  };

  const nextMember = () => {
    const member = order[cursor];
    cursor = cursor + 1 === order.length ? 0 : cursor + 1;
    return member;
  };

  let cpu = process.cpuUsage();
  let behindMs = 0;
  // The generator's own pauses, which delay the answers it times: garbage collection, and
  // the longest gap between turns of its event loop (its pacing timer runs every ms).
  let gcMs = 0;
  let maxGapMs = 0;
  let lastTurn = performance.now();
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const turns = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - lastTurn);
    lastTurn = now;
  }, 1);
  const t0 = performance.now();
  const ticker = setInterval(() => {
    const used = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    const tick = {
      type: 'tick',
      t: Math.round(performance.now() - t0) / 1000,
      phase: phase?.name,
      sent: second.sent,
      ok: second.ok,
      failed: second.failed,
      inflight,
      behindMs: Math.round(behindMs),
      cpuSeconds: (used.user + used.system) / 1e6,
      gcMs: Math.round(gcMs * 10) / 10,
      maxGapMs: Math.round(maxGapMs * 10) / 10,
      histogram: toSparse(second.histogram),
    };
    second = { sent: 0, ok: 0, failed: 0, histogram: createHistogram() };
    gcMs = 0;
    maxGapMs = 0;
    process.send(tick);
  }, 1000);

  const closedPhase = (p) =>
    new Promise((resolve) => {
      const originsOnly = p.members === 'origins';
      const deadline = p.seconds === undefined ? Infinity : performance.now() + p.seconds * 1000;
      let remaining = originsOnly ? fleet.originMembers : Infinity;
      let running = p.concurrency;
      const next = () => {
        if (remaining === 0 || performance.now() >= deadline) {
          if (--running === 0) resolve();
          return;
        }
        remaining -= 1;
        const member = originsOnly ? fleet.agentMembers + originCursor++ : nextMember();
        announce(member, next);
      };
      for (let i = 0; i < p.concurrency; i++) next();
    });

  const openPhase = (p) =>
    new Promise((resolve) => {
      const start = performance.now();
      const end = start + p.seconds * 1000;
      let issued = 0;
      const pace = () => {
        const now = Math.min(performance.now(), end);
        const due = Math.floor(((now - start) / 1000) * rate);
        while (issued < due && inflight < options.maxOutstanding) {
          issued += 1;
          announce(nextMember(), () => {});
        }
        behindMs = ((due - issued) / rate) * 1000;
        if (now >= end) {
          clearInterval(timer);
          behindMs = 0;
          resolve(issued);
        }
      };
      const timer = setInterval(pace, 1);
    });

  for (const p of options.phases) {
    await nextMessage('continue');
    phase = p;
    churn = p.churn === true;
    const before = { ...fleet.counts };
    whole = { sent: 0, ok: 0, failed: 0, histogram: createHistogram() };
    const startedAt = performance.now();
    if (p.kind === 'closed') await closedPhase(p);
    else await openPhase(p);
    // Let what is in flight finish inside the phase.
    while (inflight > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await send({
      type: 'phase-end',
      phase: p.name,
      seconds: (performance.now() - startedAt) / 1000,
      completed: fleet.counts.completed - before.completed,
      left: fleet.counts.left - before.left,
      sent: whole.sent,
      ok: whole.ok,
      failed: whole.failed,
      histogram: toSparse(whole.histogram),
    });
  }
  clearInterval(ticker);
  clearInterval(turns);
  gcObserver.disconnect();
  await pool.close();
  await send({ type: 'done', sampled, failures: Object.fromEntries(failures) });
}

const { options } = await nextMessage('start');
await run(options);
process.disconnect();
