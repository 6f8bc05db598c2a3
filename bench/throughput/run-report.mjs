// Figures of one run (the product and the floor side by side, and their ratio), the targets over
// all runs, and the lines printed after each run.

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const r2 = (x) => (x === undefined || Number.isNaN(x) ? undefined : Math.round(x * 100) / 100);
const r3 = (x) => (x === undefined || Number.isNaN(x) ? undefined : Math.round(x * 1000) / 1000);
const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Targets of the issue: CPU per GiB delivered, its ratio to the floor, and wall time at 4 × 1 GiB. */
const TARGETS = { cpuSecondsPerGiB: 3.5, cpuOverFloor: 1.5, wallSeconds4x1GiB: 15 };

function side(result, size) {
  const ok = result.pulls.filter((p) => p.error === undefined);
  const delivered = ok.length * size;
  const gib = delivered / GIB;
  const cpuSeconds = Object.fromEntries(Object.entries(result.cpuSeconds).map(([k, v]) => [k, r3(v)]));
  const total = Object.values(result.cpuSeconds).reduce((a, b) => a + b, 0);
  const perGiB = Object.fromEntries(
    Object.entries(result.cpuSeconds).map(([k, v]) => [k, gib > 0 ? r3(v / gib) : undefined]),
  );
  perGiB.total = gib > 0 ? r3(total / gib) : undefined;
  const systemTotal = Object.values(result.systemCpuSeconds).reduce((a, b) => a + b, 0);
  return {
    wallSeconds: r3(result.wallSeconds),
    aggregateMiBps: r2(delivered / MIB / result.wallSeconds),
    deliveredBytes: delivered,
    cpuSeconds: { ...cpuSeconds, total: r3(total) },
    cpuSecondsPerGiB: perGiB,
    // The kernel's part: socket and page-cache copies, syscalls, TCP on loopback.
    systemCpuSecondsPerGiB: gib > 0 ? r3(systemTotal / gib) : undefined,
    // Every process on the machine, this run's and anything else: cores busy over the window.
    machineCores: r2(result.machineBusySeconds / result.wallSeconds),
    pulls: result.pulls.map((pull) => ({
      agent: pull.agent,
      headersSeconds: r3(pull.headersSeconds),
      firstByteSeconds: r3(pull.firstByteSeconds),
      seconds: r3(pull.seconds),
      ...(pull.error === undefined ? {} : { error: pull.error }),
    })),
    agentMemoryMiB: result.agentMemory.map((m) => ({
      agent: m.agent,
      rssAfterStart: r2(m.rssAfterStartBytes / MIB),
      rssAfter: r2(m.rssAfterBytes / MIB),
      peak: r2(m.peakRssBytes / MIB),
    })),
  };
}

/** One run's report: `product`, `floor`, `cpuOverFloor`, and the progress samples for the plot. */
export function summarizeRun({ product, floor, size, agents }) {
  const p = side(product, size);
  const f = side(floor, size);
  const fromOrigins = product.status.reduce((sum, s) => sum + (s.bytesFromOrigins ?? 0), 0);
  p.pushSeconds = r3(product.pushSeconds);
  p.originSettleSeconds = r3(product.settleSeconds);
  p.originBytesOverSize = r3(fromOrigins / size);
  p.agentStatus = product.status.map((s) => ({
    source: s.source,
    state: s.state,
    bytesFromPeers: s.bytesFromPeers,
    bytesFromOrigins: s.bytesFromOrigins,
    bytesUploaded: s.bytesUploaded,
    ...(s.reason === undefined ? {} : { reason: s.reason }),
    ...(s.error === undefined ? {} : { error: s.error }),
  }));
  const failedPulls = [...p.pulls, ...f.pulls].filter((x) => x.error !== undefined).length;
  return {
    agents,
    failedPulls,
    product: p,
    floor: f,
    cpuOverFloor: r2(p.cpuSecondsPerGiB.total / f.cpuSecondsPerGiB.total),
    wallOverFloor: r2(p.wallSeconds / f.wallSeconds),
    progress: {
      product: product.pulls.map((x) => x.progress.map(([s, b]) => [r3(s), b])),
      floor: floor.pulls.map((x) => x.progress.map(([s, b]) => [r3(s), b])),
    },
  };
}

/** Medians over the runs and the targets checked against them. */
export function targetsOf(runs, opts) {
  const med = (f) => r3(median(runs.map(f)));
  const summary = {
    cpuSecondsPerGiB: med((r) => r.product.cpuSecondsPerGiB.total),
    floorCpuSecondsPerGiB: med((r) => r.floor.cpuSecondsPerGiB.total),
    cpuOverFloor: med((r) => r.cpuOverFloor),
    wallSeconds: med((r) => r.product.wallSeconds),
    floorWallSeconds: med((r) => r.floor.wallSeconds),
    aggregateMiBps: med((r) => r.product.aggregateMiBps),
    originBytesOverSize: med((r) => r.product.originBytesOverSize),
  };
  const targets = {
    cpuSecondsPerGiB: {
      value: summary.cpuSecondsPerGiB,
      goal: `≤ ${TARGETS.cpuSecondsPerGiB}`,
      met: summary.cpuSecondsPerGiB <= TARGETS.cpuSecondsPerGiB,
    },
    cpuOverFloor: {
      value: summary.cpuOverFloor,
      goal: `≤ ${TARGETS.cpuOverFloor} × the floor`,
      met: summary.cpuOverFloor <= TARGETS.cpuOverFloor,
    },
  };
  // The wall-time target is the issue's scenario: 4 agents × 1 GiB on this machine.
  if (opts.agents === 4 && opts.sizeMiB === 1024) {
    targets.wallSeconds = {
      value: summary.wallSeconds,
      goal: `≤ ${TARGETS.wallSeconds4x1GiB} s`,
      met: summary.wallSeconds <= TARGETS.wallSeconds4x1GiB,
    };
  }
  return { summary, targets };
}

const mib = (x) => (x === undefined ? '?' : `${Math.round(x)}`);

export function summaryLines(run, n) {
  const { product: p, floor: f } = run;
  const roles = (perGiB) =>
    Object.entries(perGiB)
      .filter(([k]) => k !== 'total')
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  const lines = [
    `run ${n}: product ${p.wallSeconds} s, ${p.aggregateMiBps} MiB/s, ${p.cpuSecondsPerGiB.total} CPU-s/GiB (${roles(p.cpuSecondsPerGiB)}; kernel ${p.systemCpuSecondsPerGiB}); machine ${p.machineCores} cores busy`,
    `run ${n}: floor   ${f.wallSeconds} s, ${f.aggregateMiBps} MiB/s, ${f.cpuSecondsPerGiB.total} CPU-s/GiB (${roles(f.cpuSecondsPerGiB)}; kernel ${f.systemCpuSecondsPerGiB}); machine ${f.machineCores} cores busy`,
    `run ${n}: product ÷ floor: CPU/GiB ${run.cpuOverFloor}×, wall ${run.wallOverFloor}×; origin sent ${p.originBytesOverSize} × S; push ${p.pushSeconds} s, then ${p.originSettleSeconds} s until the origin settled`,
    `run ${n}: first bytes ${p.pulls.map((x) => x.firstByteSeconds).join(' / ')} s; agent RSS after start ${p.agentMemoryMiB.map((m) => mib(m.rssAfterStart)).join('/')} MiB, peak ${p.agentMemoryMiB.map((m) => mib(m.peak)).join('/')} MiB`,
  ];
  for (const pull of [...p.pulls, ...f.pulls]) {
    if (pull.error !== undefined) lines.push(`run ${n}: ${pull.agent} FAILED: ${pull.error}`);
  }
  for (const [role, summary] of Object.entries(run.perf ?? {})) {
    lines.push(
      `run ${n}: perf, ${role} (${summary.samples} samples): ${summary.threads.map((t) => `${t.thread} ${t.share}%`).join(', ')}; ${summary.places.map((p) => `${p.place} ${p.share}%`).join(', ')}; top symbols:`,
    );
    for (const s of summary.symbols.slice(0, 20)) lines.push(`    ${s.share}%  [${s.place}] ${s.symbol}`);
  }
  for (const [role, summary] of Object.entries(run.profile ?? {})) {
    lines.push(`run ${n}: ${role} main threads, ${summary.sampledMs} ms sampled in the window; by file:`);
    for (const file of summary.files.slice(0, 12))
      lines.push(`    ${file.share}%  ${file.ms} ms  ${file.file}`);
    lines.push(`  top functions:`);
    for (const fn of summary.functions.slice(0, 15))
      lines.push(`    ${fn.share}%  ${fn.ms} ms  ${fn.name}  ${fn.location}`);
  }
  return lines;
}
