// Turns the timings of a run into the figures the issue asks for (replication lag percentiles,
// bytes copied ÷ unique bytes, replication throughput against the skopeo baseline) and checks
// them against the targets.

/** Nearest-rank percentile of ascending `sorted` (p in 0..100). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

const round3 = (x) => (x === null || x === undefined ? null : Math.round(x * 1000) / 1000);
const MB = 1e6;

export const TARGETS = { lagP99Seconds: 10, throughputVsSkopeo: 1.0 };

/**
 * `perImage`: [{ pushStartedMs, pushedMs, servedMs }] on the run's clock; `uniqueBytes`: bytes
 * of the distinct blobs pushed; `bytesCopied`: the rule's status counter at the end;
 * `destinationStoredBytes`: bytes b's origins newly stored; `baselineMs`: the skopeo copies;
 * `catchUpMs`: rule created → last tag served on a fresh cluster.
 */
export function summarizeRun({
  perImage,
  uniqueBytes,
  bytesCopied,
  destinationStoredBytes,
  baselineMs,
  catchUpMs,
}) {
  const lags = perImage.map((i) => (i.servedMs - i.pushedMs) / 1000).sort((a, b) => a - b);
  const firstPushMs = Math.min(...perImage.map((i) => i.pushStartedMs));
  const lastPushedMs = Math.max(...perImage.map((i) => i.pushedMs));
  const lastServedMs = Math.max(...perImage.map((i) => i.servedMs));
  const windowSeconds = (lastServedMs - firstPushMs) / 1000;
  const pushSeconds = (lastPushedMs - firstPushMs) / 1000;
  const replicationMBps = uniqueBytes / MB / windowSeconds;
  const baselineSeconds = baselineMs / 1000;
  const baselineMBps = uniqueBytes / MB / baselineSeconds;
  const ratio = replicationMBps / baselineMBps;
  const catchUpMBps = uniqueBytes / MB / (catchUpMs / 1000);
  const lagSeconds = {
    p50: round3(percentile(lags, 50)),
    p90: round3(percentile(lags, 90)),
    p99: round3(percentile(lags, 99)),
    max: round3(percentile(lags, 100)),
  };
  const targets = [
    {
      metric: 'lagP99Seconds',
      max: TARGETS.lagP99Seconds,
      value: lagSeconds.p99,
      met: lagSeconds.p99 !== null && lagSeconds.p99 <= TARGETS.lagP99Seconds,
    },
    {
      // Replication's own rate: the catch-up copies the same bytes to the same kind of empty
      // cluster as the skopeo baseline. The stream's ratio (throughputVsSkopeo) is reported but is
      // no target: its window cannot end before the pushes do, so it measures the push stream.
      metric: 'catchUpVsSkopeo',
      min: TARGETS.throughputVsSkopeo,
      value: round3(catchUpMBps / baselineMBps),
      met: catchUpMBps / baselineMBps >= TARGETS.throughputVsSkopeo,
    },
  ];
  return {
    lagSeconds,
    pushSeconds: round3(pushSeconds),
    // From the start of the first push to the last tag served by b's agent.
    windowSeconds: round3(windowSeconds),
    // After the last push completed, until its tag was served on b.
    tailSeconds: round3((lastServedMs - lastPushedMs) / 1000),
    pushMBps: round3(uniqueBytes / MB / pushSeconds),
    replicationMBps: round3(replicationMBps),
    baselineSeconds: round3(baselineSeconds),
    baselineMBps: round3(baselineMBps),
    throughputVsSkopeo: round3(ratio),
    catchUpSeconds: round3(catchUpMs / 1000),
    catchUpMBps: round3(catchUpMBps),
    catchUpVsSkopeo: round3(catchUpMBps / baselineMBps),
    bytesCopied,
    copiedOverUnique: round3(bytesCopied / uniqueBytes),
    destinationStoredBytes,
    storedOverUnique: round3(destinationStoredBytes / uniqueBytes),
    targets,
  };
}

/** The lines printed at the end of a run. */
export function summaryLines(summary, { images, uniqueBytes }) {
  const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const lines = [
    `${images} images, ${mib(uniqueBytes)} unique; pushes took ${summary.pushSeconds} s (${summary.pushMBps} MB/s)`,
    `lag p50 ${summary.lagSeconds.p50} s, p90 ${summary.lagSeconds.p90} s, p99 ${summary.lagSeconds.p99} s, max ${summary.lagSeconds.max} s`,
    `bytes copied ÷ unique ${summary.copiedOverUnique} (status), b's origins stored ÷ unique ${summary.storedOverUnique}`,
    `replication ${summary.replicationMBps} MB/s over ${summary.windowSeconds} s (first push → last tag served on b; ${summary.tailSeconds} s after the last push)`,
    `skopeo copy a → c ${summary.baselineMBps} MB/s over ${summary.baselineSeconds} s; replication ÷ skopeo ${summary.throughputVsSkopeo}×`,
    `catch-up a → d ${summary.catchUpMBps} MB/s over ${summary.catchUpSeconds} s (rule created → last tag served on d); ÷ skopeo ${summary.catchUpVsSkopeo}×`,
  ];
  for (const t of summary.targets) {
    const bound = t.max !== undefined ? `≤ ${t.max}` : `≥ ${t.min}`;
    lines.push(`target ${t.metric} ${bound}: ${t.value} ${t.met ? 'met' : 'NOT met'}`);
  }
  return lines;
}
