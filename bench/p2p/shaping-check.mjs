// Verifies the shaping once per run with a measured transfer between two hosts: one host's
// uplink and the other's downlink are both shaped to R, so the rate seen end to end should be
// R less the frame headers (about 95.6% of R at a 1500-byte MTU).

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
