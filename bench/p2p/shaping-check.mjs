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
