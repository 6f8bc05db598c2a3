// Bandwidth shaping of one end of a veth link: a token bucket filter (tc tbf) as the device's
// root qdisc. Both ends of every pair get one, so a host can send R and receive R at once, as
// over a full-duplex NIC of rate R. The switch's end, what a host receives, queues like a
// switch port (DEFAULT_QUEUE_MS); the host's own end like a host's transmit queue
// (HOST_QUEUE_FRAMES).
//
// The rate counts whole Ethernet frames (tbf meters skb length), so TCP goodput is (MTU - 52) /
// (MTU + 14) of R: 99.3% over the default 9000-byte MTU, 95.6% over 1500 bytes. That header cost
// is part of what the benchmark measures.
import { run } from './system-command.mjs';

/**
 * The burst is what the bucket may send at line speed after an idle spell: large enough for a
 * 64 KiB GSO segment (smaller ones make tbf split them, costing CPU) and a few ms of traffic,
 * negligible next to a transfer of several seconds. The queue holds `latencyMs` of traffic (see
 * DEFAULT_QUEUE_MS), enough for TCP to keep the link busy without unbounded bufferbloat.
 */
const MIN_BURST_BYTES = 64 * 1024;
const BURST_MS = 5;
/**
 * 200 ms at 1 MB/s is 200 kB: 22 frames of 9000 bytes. A queue of a few frames is not one TCP can
 * work with: with 50 ms (five and a half jumbo frames) the origin retransmitted 28% of its segments.
 * A datacenter switch port buffers a few hundred jumbo frames, more than this.
 */
export const DEFAULT_QUEUE_MS = 200;
/**
 * The host's own end holds what its NIC's transmit queue would: Linux's default txqueuelen, 1000
 * frames. A frame dropped there is a local drop, which TCP does not take for a loss: a
 * connection with nothing in flight then tries again only from its persist timer, every 500 ms,
 * and the kernel cuts it (ETIMEDOUT, no RST) after tcp_retries2 (15) failures in a row, 7.5 s.
 * A 200 ms queue on the sender's end overflowed whenever sixteen busy connections left one host:
 * connections that lost their ACK clock starved for seconds, and in the 72-minute direct
 * baseline one was cut. TCP small queues keep each connection to a couple of frames in the
 * qdisc, so a queue this deep does not fill, as a real host's does not.
 */
export const HOST_QUEUE_FRAMES = 1000;
/** Ethernet header bytes per frame on top of the MTU; tbf counts whole frames. */
const ETHERNET_HEADER_BYTES = 14;

/** The host end's queue in bytes: HOST_QUEUE_FRAMES frames of `mtu`. */
export const hostQueueBytes = (mtu) => HOST_QUEUE_FRAMES * (mtu + ETHERNET_HEADER_BYTES);

/** The tbf parameters for a rate, as recorded in the report. */
export function shapingFor(bytesPerSecond, latencyMs = DEFAULT_QUEUE_MS) {
  const burstBytes = Math.max(MIN_BURST_BYTES, Math.ceil((bytesPerSecond * BURST_MS) / 1000));
  return { qdisc: 'tbf', bytesPerSecond, burstBytes, latencyMs };
}

/**
 * Replaces `dev`'s root qdisc in namespace `ns` with a tbf at `bytesPerSecond` whose queue holds
 * `latencyMs` of R or, given `limitBytes`, that many bytes; returns its parameters.
 */
export function applyLinkShaping({ ns, dev, bytesPerSecond, latencyMs = DEFAULT_QUEUE_MS, limitBytes }) {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond < 10_000)
    throw new Error(`shaping rate must be at least 10 kB/s (got ${bytesPerSecond})`);
  const { qdisc, burstBytes } = shapingFor(bytesPerSecond, latencyMs);
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
    String(burstBytes),
    ...(limitBytes === undefined ? ['latency', `${latencyMs}ms`] : ['limit', String(limitBytes)]),
  ]);
  return {
    qdisc,
    bytesPerSecond,
    burstBytes,
    ...(limitBytes === undefined ? { latencyMs } : { limitBytes }),
  };
}
