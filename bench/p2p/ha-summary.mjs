// The HA comparison: the undisturbed and the disturbed p2p run side by side, and how much slower
// the disturbed one was at the median and at the tail.

const ratio = (a, b) => (a === null || b === null || b === 0 ? null : Math.round((a / b) * 1000) / 1000);

/** The figures of one run that the comparison shows. */
function side(r) {
  return {
    completed: r.completed,
    agents: r.agents,
    completionSeconds: r.completionSeconds,
    efficiency: r.efficiency,
    originEgressPerBlob: r.originEgressPerBlob,
    killed: r.killed,
  };
}

/**
 * `runs.undisturbed` and `runs.disturbed` (run-summary.mjs). The ratios are disturbed ÷
 * undisturbed completion times; a disturbed run with failed pulls is marked partial, since its
 * percentiles then leave the failures out.
 */
export function haReport(runs) {
  const { undisturbed, disturbed } = runs;
  return {
    undisturbed: side(undisturbed),
    disturbed: side(disturbed),
    disturbedOverUndisturbed: {
      p50: ratio(disturbed.completionSeconds.p50, undisturbed.completionSeconds.p50),
      p99: ratio(disturbed.completionSeconds.p99, undisturbed.completionSeconds.p99),
      partial: disturbed.partial || undisturbed.partial,
    },
  };
}

const sec = (x) => (x === null ? 'n/a' : `${x.toFixed(1)} s`);
const times = (ratioValue) => (ratioValue === null ? 'n/a' : `${ratioValue.toFixed(2)} ×`);

/** A few lines for humans. */
export function haSummaryLines(comparison) {
  const { undisturbed: u, disturbed: d, disturbedOverUndisturbed: q } = comparison;
  const row = (name, r) =>
    `${name.padEnd(11)} ${r.completed}/${r.agents} done, p50 ${sec(r.completionSeconds.p50)} ` +
    `p90 ${sec(r.completionSeconds.p90)} p99 ${sec(r.completionSeconds.p99)} max ${sec(r.completionSeconds.max)}, ` +
    `origin egress ${r.originEgressPerBlob.toFixed(2)} × S`;
  const killed = d.killed.map((k) => `${k.host}@${k.percentOfIdeal}%`).join(', ');
  return [
    row('undisturbed', u),
    row('disturbed', d) + ` (killed ${killed})`,
    `disturbed / undisturbed: p50 ${times(q.p50)}, p99 ${times(q.p99)}${q.partial ? ' (partial: some pulls failed)' : ''}`,
  ];
}
