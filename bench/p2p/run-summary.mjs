// Turns the per-agent timings of a run into the figures the issue asks for (completion time
// percentiles, efficiency, origin egress per blob size) and checks them against the targets.

/** Nearest-rank percentile of ascending `sorted` (p in 0..100). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

const round3 = (x) => (x === null ? null : Math.round(x * 1000) / 1000);

/** p50/p90/p99/max of ascending `sorted` seconds, and the efficiency (S/R)/t at each. */
function percentiles(sorted, idealSeconds) {
  const seconds = {};
  const efficiency = {};
  for (const [key, p] of [
    ['p50', 50],
    ['p90', 90],
    ['p99', 99],
    ['max', 100],
  ]) {
    const t = percentile(sorted, p);
    seconds[key] = t;
    // Efficiency at a completion percentile: the slower the agent, the lower its efficiency.
    efficiency[key] = t === null ? null : round3(idealSeconds / t);
  }
  return { seconds, efficiency };
}

/**
 * `pulls` holds one entry per agent, `{ agent, result?, error?, failure? }` with result from the
 * driver's pull, or the error and how far the pull got (`failure`: { atMs, bytes, headersMs?,
 * lagMs?, code? }). `idealSeconds` is S/R, the fastest any agent can receive the blob over its
 * own link. Agents that failed count as never done: they are listed, with when they failed and
 * the bytes they had, and excluded from the percentiles, which are then marked partial.
 */
export function summarizeRun({ pulls, idealSeconds, sizeBytes, originEgressBytes, cpu, links }) {
  const perAgent = pulls.map(({ agent, result, error, failure, status }) => {
    const headersMs = result?.headersMs ?? failure?.headersMs;
    const lagMs = result?.lagMs ?? failure?.lagMs;
    return {
      agent,
      ok: result !== undefined,
      seconds: result ? round3(result.endMs / 1000) : null,
      // Time to the response headers: how long the agent took to start answering.
      headersSeconds: headersMs === undefined ? null : round3(headersMs / 1000),
      // How late the request left after the common start (a busy driver's event loop).
      startLagMs: lagMs === undefined ? null : Math.round(lagMs),
      ...(error === undefined ? {} : { error }),
      ...(failure === undefined
        ? {}
        : {
            failedAtSeconds: round3(failure.atMs / 1000),
            bytesReceived: failure.bytes,
            ...(failure.code === undefined ? {} : { errorCode: failure.code }),
          }),
      ...(status === undefined ? {} : { status }),
    };
  });
  const done = perAgent.filter((a) => a.ok);
  const times = done.map((a) => a.seconds).sort((a, b) => a - b);
  const completion = percentiles(times, idealSeconds);
  const headers = percentiles(
    done.map((a) => a.headersSeconds).sort((a, b) => a - b),
    idealSeconds,
  );
  return {
    agents: pulls.length,
    completed: times.length,
    partial: times.length < pulls.length,
    completionSeconds: completion.seconds,
    efficiency: completion.efficiency,
    headersSeconds: headers.seconds,
    originEgressBytes,
    originEgressPerBlob: round3(originEgressBytes / sizeBytes),
    links:
      links === undefined
        ? undefined
        : linkSummary(links, pulls.length, sizeBytes / idealSeconds, times.at(-1)),
    cpu,
    perAgent,
  };
}

/** The targets, for the P2P run: p50 efficiency ≥ 90%, p99 ≥ 80%, origin egress ≤ 2 × S. */
export function checkTargets(p2p) {
  if (p2p === undefined) return [];
  const complete = !p2p.partial;
  const atLeast = (metric, value, min) => ({
    metric,
    min,
    value,
    met: complete && value !== null && value >= min,
  });
  return [
    atLeast('p2p efficiency p50', p2p.efficiency.p50, 0.9),
    atLeast('p2p efficiency p99', p2p.efficiency.p99, 0.8),
    {
      metric: 'origin egress / S',
      max: 2,
      value: p2p.originEgressPerBlob,
      met: complete && p2p.originEgressPerBlob <= 2,
    },
  ];
}

const pct = (x) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
const sec = (x) => (x === null ? 'n/a' : `${x.toFixed(1)} s`);

/** A few lines for humans, per run, then the targets. */
export function summaryLines({ runs, targets, params, shaping }) {
  const lines = [
    `${params.agents} agents, ${params.sizeMiB} MiB blob, links shaped to ${params.rateMBps} MB/s ` +
      `(MTU ${params.mtu}, ${params.queueMs} ms queues toward each host; measured ${(shaping.bytesPerSecond / 1e6).toFixed(2)} MB/s ` +
      `end to end); S/R = ${sec(params.idealSeconds)}`,
  ];
  for (const [name, r] of Object.entries(runs)) {
    const c = r.completionSeconds;
    lines.push(
      `${name.padEnd(6)} ${r.completed}/${r.agents} agents done: p50 ${sec(c.p50)} p90 ${sec(c.p90)} ` +
        `p99 ${sec(c.p99)} max ${sec(c.max)}; efficiency p50 ${pct(r.efficiency.p50)} p99 ${pct(r.efficiency.p99)}; ` +
        `origin egress ${r.originEgressPerBlob.toFixed(2)} × S; CPU ${r.cpu.coresUsed} of ${r.cpu.cpus} cores ` +
        `(machine ${r.cpu.machineCoresBusy})`,
    );
    // Other work on the machine takes cores from the hosts under test: say so beside the figures.
    // (The gap also holds the kernel's forwarding and shaping, which is the test network's own.)
    const others = r.cpu.machineCoresBusy - r.cpu.coresUsed;
    if (others > 0.5) {
      lines.push(
        `       the machine was ${others.toFixed(1)} cores busier than the processes under test ` +
          '(other work, and the kernel forwarding packets): on a busy machine the times are pessimistic',
      );
    }
    const h = r.headersSeconds;
    lines.push(`       response headers at p50 ${sec(h.p50)} p99 ${sec(h.p99)} max ${sec(h.max)}`);
    for (const a of r.perAgent) if (!a.ok) lines.push(`       ${a.agent} failed: ${a.error}`);
    if (r.links !== undefined) {
      lines.push(
        `       pulling hosts' uplinks ${pct(r.links.pullersUplinkBusy)} busy; TCP retransmissions: ` +
          `origins ${pct(r.links.originRetransmitShare)}, pulling hosts ${pct(r.links.pullersRetransmitShare)} of segments`,
      );
    }
  }
  for (const t of targets) {
    const bound = t.min !== undefined ? `≥ ${t.min}` : `≤ ${t.max}`;
    lines.push(`target ${t.metric} ${bound}: ${t.value ?? 'n/a'} ${t.met ? 'met' : 'NOT met'}`);
  }
  return lines;
}

/**
 * How busy the pulling hosts' uplinks were (bytes sent ÷ what N links carry until the last
 * agent finished) and the share of TCP segments that were retransmissions, per group.
 */
function linkSummary(links, hosts, bytesPerSecond, lastSeconds) {
  const retransmitShare = (g) => (g.tcpOut > 0 ? round3(g.tcpRetrans / g.tcpOut) : 0);
  return {
    ...links,
    pullersUplinkBusy:
      lastSeconds === undefined
        ? null
        : round3(links.pullers.txBytes / (hosts * bytesPerSecond * lastSeconds)),
    originRetransmitShare: retransmitShare(links.origins),
    pullersRetransmitShare: retransmitShare(links.pullers),
  };
}
