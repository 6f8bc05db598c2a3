// Turns the samples of a run into the figures the issue asks for (each agent's RSS, heap,
// external memory and array buffers when idle, its peak RSS while the swarm runs) and checks
// them against the targets.

export const TARGETS = { idleRssMiB: 80, peakRssMiB: 150 };

const MIB = 1024 * 1024;
const mib = (bytes) => (typeof bytes === 'number' ? Math.round((bytes / MIB) * 10) / 10 : null);

/** A sample's byte figures in MiB, under the same keys without the `Bytes` suffix plus `MiB`. */
export function inMiB(sample) {
  return Object.fromEntries(
    Object.entries(sample).map(([key, value]) => [key.replace(/Bytes$/, 'MiB'), mib(value)]),
  );
}

const range = (values) => ({ min: Math.min(...values), max: Math.max(...values) });

/**
 * `agents`: [{ name, idle, pull: { peakRssBytes, maxima, cpuSeconds, gcSeconds, seconds?, error?, status },
 * after }] with byte figures; returns the per-agent figures in MiB, the ranges over agents, and
 * the targets with met or not.
 */
export function summarize(agents) {
  const perAgent = agents.map((a) => ({
    name: a.name,
    idle: inMiB(a.idle),
    pull: {
      peakRssMiB: mib(a.pull.peakRssBytes),
      sampledMaxima: inMiB(a.pull.maxima),
      cpuSeconds: a.pull.cpuSeconds,
      gcSeconds: a.pull.gcSeconds,
      ...(a.pull.error === undefined ? { seconds: a.pull.seconds } : { error: a.pull.error }),
      source: a.pull.status.source ?? null,
      bytesFromPeers: a.pull.status.bytesFromPeers ?? null,
      bytesFromOrigins: a.pull.status.bytesFromOrigins ?? null,
    },
    after: inMiB(a.after),
  }));
  const idleRss = perAgent.map((a) => a.idle.rssMiB);
  const peakRss = perAgent.map((a) => a.pull.peakRssMiB);
  const failed = perAgent.filter((a) => a.pull.error !== undefined).map((a) => a.name);
  const summary = {
    idleRssMiB: range(idleRss),
    idleHeapUsedMiB: range(perAgent.map((a) => a.idle.heapUsedMiB)),
    peakRssMiB: range(peakRss),
    pullSecondsMax: failed.length > 0 ? null : Math.max(...perAgent.map((a) => a.pull.seconds)),
    failedPulls: failed,
  };
  const targets = [
    {
      metric: 'idleRssMiB',
      max: TARGETS.idleRssMiB,
      value: summary.idleRssMiB.max,
      met: summary.idleRssMiB.max <= TARGETS.idleRssMiB,
    },
    {
      metric: 'peakRssMiB',
      max: TARGETS.peakRssMiB,
      value: summary.peakRssMiB.max,
      met: failed.length === 0 && summary.peakRssMiB.max <= TARGETS.peakRssMiB,
    },
  ];
  return { perAgent, summary, targets };
}

/** Human-readable lines for stderr. */
export function summaryLines({ perAgent, summary, targets }, sizeMiB) {
  const lines = perAgent.map(
    (a) =>
      `${a.name}: idle RSS ${a.idle.rssMiB} MiB (heap ${a.idle.heapUsedMiB}/${a.idle.heapTotalMiB}, ` +
      `external ${a.idle.externalMiB}, arrayBuffers ${a.idle.arrayBuffersMiB}); ` +
      `${sizeMiB} MiB pull: peak RSS ${a.pull.peakRssMiB} MiB, ` +
      (a.pull.error === undefined
        ? `${a.pull.seconds.toFixed(1)} s from ${a.pull.source}, ${a.pull.cpuSeconds.toFixed(1)} s CPU ` +
          `(GC ${Object.values(a.pull.gcSeconds)
            .reduce((sum, s) => sum + s, 0)
            .toFixed(2)} s)`
        : `FAILED: ${a.pull.error}`),
  );
  for (const t of targets) {
    lines.push(`target ${t.metric} ≤ ${t.max} MiB: ${t.value} MiB, ${t.met ? 'met' : 'NOT met'}`);
  }
  if (summary.failedPulls.length > 0) lines.push(`failed pulls: ${summary.failedPulls.join(', ')}`);
  return lines;
}
