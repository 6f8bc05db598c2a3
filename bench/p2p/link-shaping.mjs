// Bandwidth shaping of one end of a veth link: a token bucket filter (tc tbf) as the device's
// root qdisc. Both ends of every pair get one, so a host can send R and receive R at once, as
// over a full-duplex NIC of rate R.
//
// The rate counts whole Ethernet frames (tbf meters skb length), so TCP goodput over a 1500-byte
// MTU is about 1448/1514 ≈ 95.6% of R: that header cost is part of what the benchmark measures.
import { run } from './system-command.mjs';

/**
 * The burst is what the bucket may send at line speed after an idle spell: large enough for a
 * 64 KiB GSO segment (smaller ones make tbf split them, costing CPU) and a few ms of traffic,
 * negligible next to a transfer of several seconds. The queue holds LATENCY_MS of traffic, enough
 * for TCP to keep the link busy without unbounded bufferbloat.
 */
const MIN_BURST_BYTES = 64 * 1024;
const BURST_MS = 5;
const LATENCY_MS = 50;

/** The tbf parameters for a rate, as recorded in the report. */
export function shapingFor(bytesPerSecond) {
  const burstBytes = Math.max(MIN_BURST_BYTES, Math.ceil((bytesPerSecond * BURST_MS) / 1000));
  return { qdisc: 'tbf', bytesPerSecond, burstBytes, latencyMs: LATENCY_MS };
}

/** Replaces `dev`'s root qdisc in namespace `ns` with a tbf at `bytesPerSecond`; returns its parameters. */
export function applyLinkShaping({ ns, dev, bytesPerSecond }) {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond < 10_000)
    throw new Error(`shaping rate must be at least 10 kB/s (got ${bytesPerSecond})`);
  const shaping = shapingFor(bytesPerSecond);
  run('tc', [
    '-n',
    ns,
    'qdisc',
    'replace',
    'dev',
    dev,
    'root',
    'tbf',
    'rate',
    `${Math.round(bytesPerSecond * 8)}bit`,
    'burst',
    String(shaping.burstBytes),
    'latency',
    `${LATENCY_MS}ms`,
  ]);
  return shaping;
}
