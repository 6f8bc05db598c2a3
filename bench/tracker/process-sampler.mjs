// What the tracker process costs over time: CPU and resident memory (read from /proc by
// bench/throughput/process-stats.mjs) sampled once a second into a timeline, plus the
// machine's busy time to show other load.
import { cpuSeconds as cpuTimes, machineBusySeconds, memory } from '../throughput/process-stats.mjs';

export { machineBusySeconds, memory };

/** CPU seconds the process has used (user + system), or undefined once it is gone. */
export function cpuSeconds(pid) {
  const times = cpuTimes(pid);
  return times === undefined ? undefined : times.user + times.system;
}

/**
 * Samples `pids` (role → pid) every `intervalMs`: CPU as a percentage of one core over the last
 * interval, RSS, and the machine's busy cores. `now()` gives the sample's time axis.
 */
export function startSampler({ pids, intervalMs = 1000, now }) {
  const samples = [];
  let last = { at: performance.now(), machine: machineBusySeconds(), cpu: {} };
  for (const [role, pid] of Object.entries(pids)) last.cpu[role] = cpuSeconds(pid);
  const timer = setInterval(() => {
    const at = performance.now();
    const seconds = (at - last.at) / 1000;
    const machine = machineBusySeconds();
    const sample = { t: Math.round(now()) / 1000, machineBusyCores: (machine - last.machine) / seconds };
    const cpu = {};
    for (const [role, pid] of Object.entries(pids)) {
      cpu[role] = cpuSeconds(pid);
      const mem = memory(pid);
      sample[role] = {
        cpuPercent: cpu[role] === undefined ? undefined : ((cpu[role] - last.cpu[role]) / seconds) * 100,
        rssBytes: mem?.rssBytes,
      };
    }
    samples.push(sample);
    last = { at, machine, cpu };
  }, intervalMs);
  return {
    samples,
    stop: () => clearInterval(timer),
  };
}
