// Verifies the shaping once per run with a measured transfer between two hosts: one host's
// uplink and the other's downlink are both shaped to R, so the rate seen end to end should be
// R less the frame headers (about 95.6% of R at a 1500-byte MTU). `--check-network` also checks
// that many connections leaving one host at once all get through (checkParallelFlows).
import { run } from './system-command.mjs';

/**
 * Sends `bytes` from `from`'s driver to `to`'s driver over the test network and returns
 * { bytes, seconds, bytesPerSecond } as seen by the receiver.
 */
export async function measureLinkRate({ from, to, bytes }) {
  const { port } = await from.call('serveBytes', { bytes });
  const { bytes: got, seconds } = await to.call('sinkBytes', { host: from.host.ip, port });
  if (got !== bytes) throw new Error(`shaping check: received ${got} of ${bytes} bytes`);
  return { bytes, seconds, bytesPerSecond: Math.round(bytes / seconds) };
}

/** Bytes for the shaping check: two seconds at R (at least 2 MB), long enough to dwarf the burst. */
const checkBytes = (bytesPerSecond) => Math.max(2_000_000, Math.round(2 * bytesPerSecond));

/**
 * Measures one shaped transfer of max(2 MB, 2 s at R) from `from` to `to`, logs it, and fails
 * when the rate is far from R. Returns the measurement with its ratio to R.
 */
export async function checkShaping({ from, to, bytesPerSecond, log }) {
  const measured = await measureLinkRate({ from, to, bytes: checkBytes(bytesPerSecond) });
  const ratio = measured.bytesPerSecond / bytesPerSecond;
  log(
    `shaping check ${from.host.name} → ${to.host.name}: ${(measured.bytes / 1e6).toFixed(1)} MB in ` +
      `${measured.seconds.toFixed(2)} s = ${(measured.bytesPerSecond / 1e6).toFixed(2)} MB/s ` +
      `(${(ratio * 100).toFixed(1)}% of ${bytesPerSecond / 1e6} MB/s)`,
  );
  // Frame headers cost 0.7% (9000-byte MTU) to 4.4% (1500); far off R means the qdiscs are not doing their job.
  if (ratio < 0.5 || ratio > 1.1) throw new Error(`shaping check: measured ${ratio.toFixed(2)} × R`);
  return { ...measured, ratioToRate: Math.round(ratio * 1000) / 1000 };
}

/** A connection that loses its ACK clock to local drops is cut after this many persist probes. */
const SHORT_RETRIES = 2;
/** The parallel transfers last about this long at R. */
const FLOWS_SECONDS = 4;

/**
 * Sends `flows` transfers at once from `from` to `to`, together FLOWS_SECONDS at R, and fails
 * when the kernel cut any of them or any came up short. Sixteen busy connections leaving one host
 * overflowed a short queue on its own end, and TCP cuts a connection whose frames the local queue
 * keeps dropping after tcp_retries2 tries 500 ms apart (see HOST_QUEUE_FRAMES in
 * link-shaping.mjs). For the check `from`'s tcp_retries2 is lowered to SHORT_RETRIES, so that a
 * cut comes within about a second instead of 7.5 s, and twice the sixteen connections of a
 * default run start together: with a 200 ms queue on the sender's end, this cut 9 to 17 of the
 * 32 in each of five tries.
 */
export async function checkParallelFlows({ from, to, bytesPerSecond, flows = 32, log }) {
  const sysctl = (...args) => run('ip', ['netns', 'exec', from.host.ns, 'sysctl', ...args]).trim();
  const retries = sysctl('-n', 'net.ipv4.tcp_retries2');
  sysctl('-qw', `net.ipv4.tcp_retries2=${SHORT_RETRIES}`);
  try {
    const bytes = Math.ceil((FLOWS_SECONDS * bytesPerSecond) / flows);
    // Every server first, then every connection at once: their first windows meet in the queue.
    const ports = await Promise.all(
      Array.from({ length: flows }, () => from.call('serveBytes', { bytes }).then((r) => r.port)),
    );
    const started = performance.now();
    const results = await Promise.allSettled(
      ports.map((port) => to.call('sinkBytes', { host: from.host.ip, port })),
    );
    const cut = results.flatMap((r) => {
      if (r.status === 'rejected') return [r.reason.message];
      return r.value.bytes === bytes ? [] : [`received ${r.value.bytes} of ${bytes} bytes`];
    });
    const seconds = (performance.now() - started) / 1000;
    log(
      `parallel flows check ${from.host.name} → ${to.host.name}: ${flows} connections of ` +
        `${(bytes / 1e6).toFixed(2)} MB, ${flows - cut.length} complete in ${seconds.toFixed(2)} s`,
    );
    if (cut.length > 0)
      throw new Error(`parallel flows check: ${cut.length} of ${flows} connections cut (${cut[0]})`);
    return { flows, bytes, seconds };
  } finally {
    sysctl('-qw', `net.ipv4.tcp_retries2=${retries}`);
  }
}
