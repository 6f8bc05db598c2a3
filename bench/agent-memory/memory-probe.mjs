// What one component process holds in memory, from two sides: the kernel's view in
// /proc/<pid>/status (VmRSS now, VmHWM the peak since start or since the last reset) and the
// process's own view in its Prometheus metrics (resident memory, V8 heap, external memory and
// array buffers). Peaks are reset through /proc/<pid>/clear_refs, so a phase's peak is its own.
import { readFile, writeFile } from 'node:fs/promises';

const KIB = 1024;

/** { rssBytes, hwmBytes } of a live process, from /proc/<pid>/status. */
export async function procMemory(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (match === null) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(match[1]) * KIB;
  };
  return { rssBytes: field('VmRSS'), hwmBytes: field('VmHWM') };
}

/** Sets VmHWM back to the current RSS (Linux 4.0+), so the next peak read is the next phase's. */
export async function resetPeak(pid) {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}

/** utime + stime of a process, in seconds (clock ticks of 1/100 s on Linux). */
export async function cpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses; the fields after its last ')' do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

// Default metrics of service-kit's createMetrics (prom-client), after the component's prefix.
const HEAP_METRICS = {
  residentBytes: 'process_resident_memory_bytes',
  heapUsedBytes: 'nodejs_heap_size_used_bytes',
  heapTotalBytes: 'nodejs_heap_size_total_bytes',
  externalBytes: 'nodejs_external_memory_bytes',
  arrayBuffersBytes: 'nodejs_array_buffers_bytes',
};

/**
 * The memory figures of a component's `GET /metrics` (names prefixed `kraken_<component>_`);
 * a figure the component does not export is null.
 */
export async function metricsMemory(url, component, signal) {
  const res = await fetch(`${url}/metrics`, { signal: signal ?? AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`GET ${url}/metrics: ${res.status}`);
  const text = await res.text();
  const prefix = `kraken_${component.replace(/-/g, '_')}_`;
  const out = {};
  for (const [key, name] of Object.entries(HEAP_METRICS)) {
    const match = new RegExp(`^${prefix}${name} (\\S+)$`, 'm').exec(text);
    out[key] = match === null ? null : Number(match[1]);
  }
  return out;
}

/**
 * Seconds spent in garbage collection so far, by kind (minor, major, incremental, weakcb), from
 * prom-client's `nodejs_gc_duration_seconds` histogram: what a memory setting costs in CPU.
 */
export async function gcSeconds(url, component) {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`GET ${url}/metrics: ${res.status}`);
  const prefix = `kraken_${component.replace(/-/g, '_')}_nodejs_gc_duration_seconds_sum`;
  const out = {};
  for (const match of (await res.text()).matchAll(
    new RegExp(`^${prefix}\\{kind="(\\w+)"\\} (\\S+)$`, 'gm'),
  )) {
    out[match[1]] = Number(match[2]);
  }
  return out;
}

/** Both views of one component at one instant. */
export async function memorySample(component) {
  const [proc, metrics] = await Promise.all([
    procMemory(component.child.pid),
    metricsMemory(component.url, component.app),
  ]);
  return { ...proc, ...metrics };
}

/**
 * Samples the components every `intervalMs` until stopped: /proc at every tick, /metrics every
 * `metricsEvery` ticks (a scrape costs the component a little memory and CPU of its own).
 * `stop()` resolves with the largest value of each figure per component name.
 */
export function startSampler(components, { intervalMs = 250, metricsEvery = 4 } = {}) {
  const max = new Map(components.map((c) => [c.name, {}]));
  const raise = (name, sample) => {
    const m = max.get(name);
    for (const [key, value] of Object.entries(sample)) {
      if (typeof value === 'number' && !(m[key] >= value)) m[key] = value;
    }
  };
  let tick = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const withMetrics = tick % metricsEvery === 0;
      tick += 1;
      await Promise.all(
        components.map(async (c) => {
          try {
            raise(c.name, withMetrics ? await memorySample(c) : await procMemory(c.child.pid));
          } catch {
            // A scrape that times out under load is skipped; /proc is read at the next tick.
          }
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return Object.fromEntries(max);
    },
  };
}
