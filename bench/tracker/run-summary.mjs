// The figures of a run and its targets: announces per second the tracker sustained in the
// steady phase (and the requests that carried them: one per announce, or one per batch),
// request latency percentiles, the tracker's CPU and memory, memory per swarm member and the
// projection to the fleet the issue sizes the tracker for.
import { createHistogram, addSparse, latencySummary } from './latency-histogram.mjs';

export const TARGETS = {
  announcesPerSecond: 20_000,
  p99Ms: 10,
  projectedBytes: 1024 ** 3,
  projection: { agents: 15_000, blobs: 100 },
};

const round = (n, digits = 0) => (n === undefined || Number.isNaN(n) ? undefined : Number(n.toFixed(digits)));

/**
 * `phase`: the generator's phase-end report plus what the bench measured around it
 * ({ trackerCpuSeconds, generatorCpuSeconds, wallSeconds, after: { rss, scrape } }).
 */
/**
 * The phase's share of announce requests the tracker answered within 5, 10 and 25 ms by its own
 * histogram (the difference of two scrapes), and the smallest bucket bound holding 99 % of them.
 */
function serverLatency(before = {}, after = {}) {
  const count = (le) => (after[le] ?? 0) - (before[le] ?? 0);
  const total = count('+Inf');
  if (total <= 0) return undefined;
  const share = (le) => round((count(le) / total) * 100, 3);
  const bounds = Object.keys(after)
    .filter((le) => le !== '+Inf')
    .map(Number)
    .sort((a, b) => a - b);
  const p99 = bounds.find((le) => count(String(le)) >= total * 0.99);
  return {
    requests: total,
    within5msPercent: share('0.005'),
    within10msPercent: share('0.01'),
    within25msPercent: share('0.025'),
    p99AtMostMs: p99 === undefined ? undefined : p99 * 1000,
  };
}

function phaseFigures(phase) {
  const histogram = createHistogram();
  addSparse(histogram, phase.histogram);
  return {
    seconds: round(phase.wallSeconds, 2),
    sent: phase.sent,
    ok: phase.ok,
    failed: phase.failed,
    requests: phase.requests,
    requestsOk: phase.requestsOk,
    announcesPerSecond: round(phase.ok / phase.wallSeconds),
    requestsPerSecond: round(phase.requestsOk / phase.wallSeconds),
    // Per request: a batch's latency is its whole answer's.
    latencyMs: latencySummary(histogram),
    trackerCpuPercent: round((phase.trackerCpuSeconds / phase.wallSeconds) * 100, 1),
    generatorCpuPercent: round((phase.generatorCpuSeconds / phase.wallSeconds) * 100, 1),
    // Busy CPU of the machine that was neither the tracker, the generator nor the bench: other
    // work competing for the two cores makes a run's latency and throughput worse.
    otherLoadCores: round(
      (phase.machineBusySeconds -
        phase.trackerCpuSeconds -
        phase.generatorCpuSeconds -
        phase.benchCpuSeconds) /
        phase.wallSeconds,
      2,
    ),
    trackerCpuMicrosPerAnnounce: round((phase.trackerCpuSeconds / Math.max(1, phase.ok)) * 1e6, 1),
    trackerCpuMicrosPerRequest: round((phase.trackerCpuSeconds / Math.max(1, phase.requestsOk)) * 1e6, 1),
    // What one core would answer at this cost per announce, were it the tracker's alone.
    cpuBoundAnnouncesPerSecond: round(phase.ok / Math.max(1e-9, phase.trackerCpuSeconds)),
    generatorCpuMicrosPerAnnounce: round((phase.generatorCpuSeconds / Math.max(1, phase.ok)) * 1e6, 1),
    maxBehindScheduleMs: phase.maxBehindMs,
    completed: phase.completed,
    left: phase.left,
    trackerAfter: phase.after,
    serverLatency: serverLatency(phase.before?.scrape.announceBuckets, phase.after.scrape.announceBuckets),
  };
}

/** A second of the steady phase counts as quiet when it and the five before it had little other load. */
const QUIET_CORES = 0.25;
const QUIET_LOOKBACK = 5;

/**
 * The steady phase over its quiet seconds only: what the tracker does when it has its core,
 * beside the whole phase's figures (which the targets judge). `seconds`: [{ tick, t, otherLoadCores }].
 */
function quietSteady(seconds) {
  const steady = seconds.filter((s) => s.tick.phase === 'steady');
  const quiet = steady.filter((s, i) =>
    steady
      .slice(Math.max(0, i - QUIET_LOOKBACK), i + 1)
      .every((p) => (p.otherLoadCores ?? Infinity) < QUIET_CORES),
  );
  const histogram = createHistogram();
  let ok = 0;
  let requestsOk = 0;
  for (const s of quiet) {
    addSparse(histogram, s.tick.histogram);
    ok += s.tick.ok;
    requestsOk += s.tick.requestsOk;
  }
  return {
    seconds: quiet.length,
    ofSeconds: steady.length,
    announcesPerSecond: quiet.length === 0 ? undefined : round(ok / quiet.length),
    requestsPerSecond: quiet.length === 0 ? undefined : round(requestsOk / quiet.length),
    latencyMs: latencySummary(histogram),
  };
}

export function summarizeRun({ phases, idle, offeredPerSecond, offeredRequestsPerSecond, seconds = [] }) {
  const byName = Object.fromEntries(phases.map((p) => [p.phase, phaseFigures(p)]));
  const steady = byName.steady;
  const steadyAfter = steady.trackerAfter;
  const members = steadyAfter.scrape.swarmPeers;
  const rssGrowth = steadyAfter.rssBytes - idle.rssBytes;
  const perMember = rssGrowth / members;
  const heapPerMember = (steadyAfter.scrape.heapUsedBytes - idle.scrape.heapUsedBytes) / members;
  const projectedMembers = TARGETS.projection.agents * TARGETS.projection.blobs;
  const projectedRss = idle.rssBytes + perMember * projectedMembers;
  // Behind its schedule with a core to spare, the generator waited on the tracker (its in-flight
  // cap); near a full core, it may have been the limit itself.
  const generatorLimited = ['steady', 'peak'].some((name) => byName[name]?.generatorCpuPercent > 90);
  const memory = {
    idleRssBytes: idle.rssBytes,
    idleHeapUsedBytes: idle.scrape.heapUsedBytes,
    steadyRssBytes: steadyAfter.rssBytes,
    steadyHeapUsedBytes: steadyAfter.scrape.heapUsedBytes,
    steadyHeapTotalBytes: steadyAfter.scrape.heapTotalBytes,
    peakRssBytes: phases.at(-1)?.after.peakRssBytes,
    members,
    swarms: steadyAfter.scrape.swarms,
    largestSwarm: steadyAfter.scrape.largestSwarm,
    bytesPerMember: round(perMember),
    heapBytesPerMember: round(heapPerMember),
    projection: {
      ...TARGETS.projection,
      members: projectedMembers,
      rssBytes: round(projectedRss),
    },
  };
  const targets = [
    {
      name: 'steady announces/s',
      target: `≥ ${TARGETS.announcesPerSecond}`,
      value: steady.announcesPerSecond,
      met: steady.announcesPerSecond >= TARGETS.announcesPerSecond,
    },
    {
      name: 'steady p99 request latency (ms)',
      target: `< ${TARGETS.p99Ms}`,
      value: steady.latencyMs.p99,
      met: steady.latencyMs.p99 < TARGETS.p99Ms,
    },
    {
      name: `projected RSS for ${TARGETS.projection.agents} agents × ${TARGETS.projection.blobs} blobs (MiB)`,
      target: `≤ ${TARGETS.projectedBytes / 1024 ** 2}`,
      value: round(projectedRss / 1024 ** 2),
      met: projectedRss <= TARGETS.projectedBytes,
    },
  ];
  const disturbed = ['steady', 'peak'].some((name) => byName[name]?.otherLoadCores > 0.2);
  return {
    offeredPerSecond: round(offeredPerSecond),
    offeredRequestsPerSecond: round(offeredRequestsPerSecond),
    phases: byName,
    quietSteady: quietSteady(seconds),
    memory,
    generatorLimited,
    disturbed,
    targets,
  };
}

const mib = (bytes) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

export function summaryLines(summary) {
  const lines = [];
  for (const [name, p] of Object.entries(summary.phases)) {
    const l = p.latencyMs;
    lines.push(
      `${name.padEnd(6)} ${String(p.announcesPerSecond).padStart(6)} announces/s in ${p.requestsPerSecond} requests/s over ${p.seconds} s` +
        ` (failed ${p.failed}); request latency p50 ${l.p50} p90 ${l.p90} p99 ${l.p99} max ${l.max} ms;` +
        ` tracker CPU ${p.trackerCpuPercent}% (${p.trackerCpuMicrosPerAnnounce} µs/announce,` +
        ` ${p.trackerCpuMicrosPerRequest} µs/request, ${p.cpuBoundAnnouncesPerSecond} announces/s per core),` +
        ` generator ${p.generatorCpuPercent}%; other load ${p.otherLoadCores} cores`,
    );
    const server = p.serverLatency;
    if (server !== undefined) {
      lines.push(
        `${name.padEnd(6)} tracker's own histogram (parsed request to reply): ${server.within5msPercent}% ≤ 5 ms,` +
          ` ${server.within10msPercent}% ≤ 10 ms, ${server.within25msPercent}% ≤ 25 ms; p99 ≤ ${server.p99AtMostMs ?? '> largest bucket'} ms`,
      );
    }
  }
  const q = summary.quietSteady;
  if (q.seconds < q.ofSeconds && q.seconds > 0) {
    lines.push(
      `steady, quiet seconds only (${q.seconds} of ${q.ofSeconds}): ${q.announcesPerSecond} announces/s` +
        ` in ${q.requestsPerSecond} requests/s; request latency p50 ${q.latencyMs.p50} p99 ${q.latencyMs.p99} max ${q.latencyMs.max} ms`,
    );
  }
  const m = summary.memory;
  lines.push(
    `memory: RSS idle ${mib(m.idleRssBytes)}, steady ${mib(m.steadyRssBytes)} (heap used ${mib(m.steadyHeapUsedBytes)})` +
      ` for ${m.members} members in ${m.swarms} swarms (largest ${m.largestSwarm});` +
      ` ${m.bytesPerMember} B/member RSS, ${m.heapBytesPerMember} B/member heap;` +
      ` ${m.projection.agents} × ${m.projection.blobs} → ${mib(m.projection.rssBytes)}`,
  );
  if (summary.generatorLimited) lines.push('the generator was near its limit: the tracker may do more');
  if (summary.disturbed) lines.push('other processes used the cores during the run: figures are pessimistic');
  for (const t of summary.targets) {
    lines.push(`target ${t.name} ${t.target}: ${t.value} ${t.met ? 'met' : 'NOT met'}`);
  }
  return lines;
}
