// The load generator: a child process of the bench (pinned to its own core) that plays the
// simulated fleet (fleet-model.mjs) against one tracker over HTTP/1.1 keep-alive connections,
// speaking the real announce protocol: POST /v1/announce/batch with up to `batch` blobs of one
// peer, as the agents do, or POST /v1/announce, one blob a request, with `batch` 1. Its client
// (announce-connections.mjs) reads every answer into one reused buffer: nothing is allocated
// per read, so that the generator's own garbage collection does not hold answers it has
// received and count the wait as the tracker's latency. It reports its GC time and the longest
// stall of its event loop every second.
//
// Phases come from the bench in the start message; the generator starts each on "continue" and
// reports at its end, so the bench can read the tracker's memory between phases.
// The schedule is over requests (the fleet's units); an announce is one member of one.
// - closed: `concurrency` requests in flight, each completion sends the next (as fast as the
//   tracker answers); `members: 'origins'` limits it to the origins' requests (the seed phase).
// - open: requests at a fixed rate (units ÷ interval, so members ÷ interval announces), paced
//   every millisecond, whatever the tracker's latency; at most `maxOutstanding` requests in
//   flight, past which the generator falls behind its schedule and says so (`behindMs`).
// Every second it sends a tick: announces and requests sent and answered, failed announces,
// the latency histogram of the requests answered in that second, its own CPU time, and how far
// behind its schedule it is. Every `sampleEvery`-th answer is decoded and checked against the
// request it answers (answer-check.mjs).
import { PerformanceObserver } from 'node:perf_hooks';
import { ANNOUNCE_BATCH_BINARY_TYPE, ANNOUNCE_BINARY_TYPE } from '@kraken/p2p-core';
import { createAnnounceConnections } from './announce-connections.mjs';
import { createAnswerCheck } from './answer-check.mjs';
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
  const { unitStart } = fleet;
  const order = fleet.schedule();
  const url = new URL(options.url);
  const batched = options.fleet.batch > 1;
  const path = batched ? '/v1/announce/batch' : '/v1/announce';
  const binaryType = batched ? ANNOUNCE_BATCH_BINARY_TYPE : ANNOUNCE_BINARY_TYPE;
  const pool = createAnnounceConnections({
    host: url.hostname,
    port: Number(url.port),
    connections: options.connections,
    // The agents ask for the binary answer (and take JSON from a tracker without it).
    accept: options.answer === 'json' ? 'application/json' : `${binaryType}, application/json;q=0.5`,
  });
  /** Requests per second in the open loop. */
  const rate = fleet.units / options.intervalSeconds;
  await send({
    type: 'ready',
    fleet: {
      members: fleet.members,
      agentMembers: fleet.agentMembers,
      originMembers: fleet.originMembers,
      units: fleet.units,
      offeredPerSecond: fleet.members / options.intervalSeconds,
      offeredRequestsPerSecond: rate,
      swarmSizes: fleet.swarmSizes(),
    },
  });
  let cursor = 0;
  let originCursor = 0;
  let phase;
  let churn = false;
  let inflight = 0;
  let sentTotal = 0;

  // Announces (sent, ok, failed) and requests (requests, requestsOk), per second (reset by
  // each tick) and per phase; latency is per request.
  const counters = () => ({
    sent: 0,
    ok: 0,
    failed: 0,
    requests: 0,
    requestsOk: 0,
    histogram: createHistogram(),
  });
  let second = counters();
  let whole = counters();
  /** Failed requests by reason. */
  const failures = new Map();
  const answerCheck = createAnswerCheck({
    batched,
    json: options.answer === 'json',
    intervalSeconds: options.intervalSeconds,
  });
  const fail = (why, announces) => {
    second.failed += announces;
    whole.failed += announces;
    failures.set(why, (failures.get(why) ?? 0) + 1);
  };

  /** Sends the request of `unit`; `done` runs when it is answered or failed. */
  const announce = (unit, done) => {
    const body = fleet.body(unit);
    const first = unitStart[unit];
    const end = unitStart[unit + 1];
    for (let member = first; member < end; member++) fleet.announced(member, churn);
    const announces = end - first;
    const sample = sentTotal % options.sampleEvery === 0;
    sentTotal += 1;
    second.sent += announces;
    whole.sent += announces;
    second.requests += 1;
    whole.requests += 1;
    inflight += 1;
    const started = performance.now();
    pool.announce({
      path,
      body,
      keepBody: sample,
      done: (status, answer, error) => {
        inflight -= 1;
        if (error !== undefined) {
          fail(error, announces);
          done();
          return;
        }
        const us = (performance.now() - started) * 1000;
        record(second.histogram, us);
        record(whole.histogram, us);
        if (status === 200) {
          second.ok += announces;
          whole.ok += announces;
          second.requestsOk += 1;
          whole.requestsOk += 1;
        } else fail(`HTTP ${status}`, announces);
        if (answer !== undefined && status === 200)
          answerCheck.check({ peerId: fleet.peerIdOf(unit), body, answer });
        done();
      },
    });
  };

  const nextUnit = () => {
    const unit = order[cursor];
    cursor = cursor + 1 === order.length ? 0 : cursor + 1;
    return unit;
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
      requests: second.requests,
      requestsOk: second.requestsOk,
      inflight,
      behindMs: Math.round(behindMs),
      cpuSeconds: (used.user + used.system) / 1e6,
      gcMs: Math.round(gcMs * 10) / 10,
      maxGapMs: Math.round(maxGapMs * 10) / 10,
      histogram: toSparse(second.histogram),
    };
    second = counters();
    gcMs = 0;
    maxGapMs = 0;
    process.send(tick);
  }, 1000);

  const closedPhase = (p) =>
    new Promise((resolve) => {
      const originsOnly = p.members === 'origins';
      const deadline = p.seconds === undefined ? Infinity : performance.now() + p.seconds * 1000;
      let remaining = originsOnly ? fleet.originUnits : Infinity;
      let running = p.concurrency;
      const next = () => {
        if (remaining === 0 || performance.now() >= deadline) {
          if (--running === 0) resolve();
          return;
        }
        remaining -= 1;
        announce(originsOnly ? fleet.agentUnits + originCursor++ : nextUnit(), next);
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
          announce(nextUnit(), () => {});
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
    whole = counters();
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
      requests: whole.requests,
      requestsOk: whole.requestsOk,
      histogram: toSparse(whole.histogram),
    });
  }
  clearInterval(ticker);
  clearInterval(turns);
  gcObserver.disconnect();
  await pool.close();
  await send({ type: 'done', sampled: answerCheck.sampled, failures: Object.fromEntries(failures) });
}

const { options } = await nextMessage('start');
await run(options);
process.disconnect();
