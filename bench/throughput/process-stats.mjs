// What each process of a run cost, read from /proc: CPU time (utime + stime of all its threads,
// from /proc/<pid>/stat) and memory (VmRSS, and VmHWM, the peak RSS since the process started,
// from /proc/<pid>/status). Snapshots are taken per role (origin, agents, tracker, ...) at the
// start instant and after the last pull, and subtracted.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond;
/** USER_HZ, the unit of the /proc tick counters. */
function hz() {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** { user, system } CPU seconds of `pid` (utime, stime), or undefined once it is gone. */
export function cpuSeconds(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces: count the fields after its closing ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line: 12 and 13 after the name and the state.
  return { user: Number(fields[11]) / hz(), system: Number(fields[12]) / hz() };
}

/** { rssBytes, peakRssBytes } of `pid`, or undefined once it is gone. */
export function memory(pid) {
  let status;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM') };
}

/** `groups`: role → pids. Returns role → (pid → CPU seconds). */
export function cpuSnapshot(groups) {
  return Object.fromEntries(
    Object.entries(groups).map(([role, pids]) => [role, new Map(pids.map((pid) => [pid, cpuSeconds(pid)]))]),
  );
}

/**
 * CPU seconds per role between two snapshots of the same groups, and the kernel's share
 * of them (`system`, by role); a process gone by then counts 0.
 */
export function cpuSpent(before, after) {
  const byRole = {};
  const system = {};
  for (const [role, pids] of Object.entries(after)) {
    let seconds = 0;
    let kernel = 0;
    for (const [pid, end] of pids) {
      const start = before[role]?.get(pid);
      if (end === undefined || start === undefined) continue;
      seconds += end.user - start.user + (end.system - start.system);
      kernel += end.system - start.system;
    }
    byRole[role] = seconds;
    system[role] = kernel;
  }
  return { byRole, system };
}

/** Machine-wide busy CPU seconds so far (every core, from /proc/stat): other load shows here. */
export function machineBusySeconds() {
  const [line] = readFileSync('/proc/stat', 'utf8').split('\n');
  const n = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - (n[3] ?? 0) - (n[4] ?? 0)) / hz();
}
