// CPU used by a run: the utime + stime of every process in the test network's namespaces (apps
// and drivers), from /proc/<pid>/stat at the start and the end of the run, over the wall time,
// as cores. All hosts share this machine's CPUs, so a figure near `cpus` means the cores, not the
// shaped links, were the bottleneck. The machine-wide busy figure from /proc/stat is reported
// beside it: it also counts the kernel's packet forwarding (and anything else on the machine).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { run } from './system-command.mjs';

let clockTicks;
/** USER_HZ: the unit of the /proc tick counters. */
function ticksPerSecond() {
  clockTicks ??= Number(run('getconf', ['CLK_TCK']).trim()) || 100;
  return clockTicks;
}

/** utime + stime of one process (all its threads) in ticks, or undefined once it is gone. */
function processTicks(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of the stat line (utime, stime) are 12 and 13 after the name and state.
  return Number(fields[11]) + Number(fields[12]);
}

function machineBusyTicks() {
  const [cpuLine] = readFileSync('/proc/stat', 'utf8').split('\n');
  const [, ...values] = cpuLine.trim().split(/\s+/);
  const n = values.map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return total - (n[3] ?? 0) - (n[4] ?? 0);
}

/**
 * Takes a snapshot: `groups` maps a role name ('origin', 'agents', ...) to the pids to count
 * under it. Pass the result to cpuUsage() with a later snapshot of the same groups.
 */
export function cpuSnapshot(groups) {
  const ticks = {};
  for (const [role, pids] of Object.entries(groups)) {
    ticks[role] = new Map(pids.map((pid) => [pid, processTicks(pid)]));
  }
  return { at: performance.now(), ticks, machine: machineBusyTicks() };
}

/**
 * Cores used between two snapshots, in total and per role. A process that exited in between
 * (e.g. one killed on purpose) counts as zero: its last ticks are gone with it.
 */
export function cpuUsage(before, after) {
  const seconds = (after.at - before.at) / 1000;
  const hz = ticksPerSecond();
  const byRole = {};
  let total = 0;
  for (const [role, pids] of Object.entries(after.ticks)) {
    let roleTicks = 0;
    for (const [pid, end] of pids) {
      const start = before.ticks[role]?.get(pid) ?? 0;
      if (end !== undefined) roleTicks += end - (start ?? 0);
    }
    const cores = roleTicks / hz / seconds;
    byRole[role] = round2(cores);
    total += cores;
  }
  return {
    coresUsed: round2(total),
    cpus: availableParallelism(),
    byRole,
    machineCoresBusy: round2((after.machine - before.machine) / hz / seconds),
    seconds: round2(seconds),
  };
}

const round2 = (x) => Math.round(x * 100) / 100;
