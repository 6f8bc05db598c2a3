// One measured run: every agent host's driver requests the same blob at the same instant (a start
// time sent ahead, so no agent gets a head start from the order of the messages), while the
// origins' transmitted bytes and the CPU of every process in the network are recorded around it.
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSnapshot, cpuUsage } from './cpu-accounting.mjs';
import { tcpSegments, txBytes } from './test-network.mjs';

// Lead time for the start instant: every driver has its request long before it.
const START_LEAD_MS = 1000;

/**
 * `drivers`: the pulling hosts' drivers; `urlFor(driver)`: what each GETs; `cpuGroups()`: role →
 * pids, evaluated at the start and the end; `events`: [{ atMs, run() }] fired that long after the
 * start (e.g. killing a process halfway). Resolves with { pulls, originEgressBytes, cpu, links }:
 * `links` holds, for the origins and for the pulling hosts, bytes sent and TCP segments sent and
 * retransmitted during the run.
 */
export async function timedPull({ drivers, urlFor, blob, originHosts, cpuGroups, timeoutMs, events = [] }) {
  // Date.now(), not performance.timeOrigin: the latter drifts apart between processes.
  const startAt = Date.now() + START_LEAD_MS;
  const pending = drivers.map((driver) =>
    driver
      .call('pull', { url: urlFor(driver), startAt, digest: blob.digest, size: blob.size, timeoutMs })
      .then(
        (result) => ({ agent: driver.host.name, result }),
        (err) => ({
          agent: driver.host.name,
          error: err.message,
          ...(err.detail === undefined ? {} : { failure: err.detail }),
        }),
      ),
  );
  await sleep(Math.max(0, startAt - Date.now()));
  // Summed over every origin host; a killed origin's link still counts what it sent before.
  const originTx = () => originHosts.reduce((sum, h) => sum + txBytes(h), 0);
  const txBefore = originTx();
  const pullHosts = drivers.map((d) => d.host);
  const linksBefore = linkCounters(originHosts, pullHosts);
  const cpuBefore = cpuSnapshot(cpuGroups());
  const timers = events.map((e) => setTimeout(() => e.run(), e.atMs));
  let pulls;
  try {
    pulls = await Promise.all(pending);
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
  const cpu = cpuUsage(cpuBefore, cpuSnapshot(cpuGroups()));
  const originEgressBytes = originTx() - txBefore;
  const linksAfter = linkCounters(originHosts, pullHosts);
  const links = Object.fromEntries(
    Object.keys(linksAfter).map((group) => [
      group,
      Object.fromEntries(
        Object.keys(linksAfter[group]).map((k) => [k, linksAfter[group][k] - linksBefore[group][k]]),
      ),
    ]),
  );
  return { pulls, originEgressBytes, cpu, links };
}

/** Summed counters of each group of hosts: { origins, pullers } → { txBytes, tcpOut, tcpRetrans }. */
function linkCounters(originHosts, pullHosts) {
  const sum = (hosts) =>
    hosts.reduce(
      (acc, h) => {
        const tcp = tcpSegments(h);
        return {
          txBytes: acc.txBytes + txBytes(h),
          tcpOut: acc.tcpOut + tcp.out,
          tcpRetrans: acc.tcpRetrans + tcp.retrans,
        };
      },
      { txBytes: 0, tcpOut: 0, tcpRetrans: 0 },
    );
  return { origins: sum(originHosts), pullers: sum(pullHosts) };
}
