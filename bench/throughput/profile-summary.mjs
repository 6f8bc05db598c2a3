// Where the time went: the V8 CPU profiles the components wrote (`node --cpu-prof`), cut to the
// pull window and summed per role. A profile's timestamps are CLOCK_MONOTONIC microseconds, the
// clock of process.hrtime, so the bench's window applies to every process. Frames in the bundled
// apps are mapped back to their TypeScript source through the bundles' source maps. Profiles see
// the main thread only: hashing and file I/O on the libuv thread pool show up in the /proc CPU
// figures, not here.
import { readdir, readFile } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const maps = new Map();

async function sourceMapOf(url) {
  if (!url.startsWith('file://')) return undefined;
  if (!maps.has(url)) {
    maps.set(
      url,
      readFile(`${fileURLToPath(url)}.map`, 'utf8').then(
        (text) => new SourceMap(JSON.parse(text)),
        () => undefined,
      ),
    );
  }
  return maps.get(url);
}

/** `file:line` in the original source where the frame's function is, or the bundle's path. */
async function locate(callFrame) {
  const { url, lineNumber, columnNumber } = callFrame;
  if (url === '') return '';
  const map = await sourceMapOf(url);
  const entry = map?.findEntry(lineNumber, columnNumber);
  const file = entry?.originalSource ?? (url.startsWith('file://') ? fileURLToPath(url) : url);
  const clean = file.startsWith('file://') ? fileURLToPath(file) : file;
  const shown = clean.startsWith('/') ? relative(ROOT, clean) : clean;
  return entry?.originalLine === undefined ? shown : `${shown}:${entry.originalLine + 1}`;
}

/** What a frame is counted as: its source file, with node's internals and V8's pseudo-frames kept apart. */
function fileOf(location, functionName) {
  if (functionName.startsWith('(')) return functionName;
  if (location === '') return '(native)';
  return location.replace(/:\d+$/, '').replace(/^.*node_modules\//, 'node_modules/');
}

/**
 * Sums the self time of the profiles of `pids` (files named `CPU.*.<pid>.*.cpuprofile` in
 * `dir`) within [startMicros, endMicros]. Returns { sampledMs, functions: [{name, location,
 * ms, share}], files: [{file, ms, share}] }, the top `top` of each, by self time.
 */
export async function summarizeProfiles({ dir, pids, startMicros, endMicros, top = 20 }) {
  const names = await readdir(dir).catch(() => []);
  const wanted = new Set(pids.map(String));
  const byFunction = new Map();
  const byFile = new Map();
  let sampledMs = 0;
  let profiles = 0;
  for (const name of names) {
    const pid = /^CPU\.[^.]+\.[^.]+\.(\d+)\./.exec(name)?.[1];
    if (pid === undefined || !wanted.has(pid)) continue;
    profiles++;
    const profile = JSON.parse(await readFile(join(dir, name), 'utf8'));
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const selfMicros = new Map();
    let at = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      const delta = profile.timeDeltas[i] ?? 0;
      at += delta;
      if (at < startMicros || at > endMicros) continue;
      const id = profile.samples[i];
      selfMicros.set(id, (selfMicros.get(id) ?? 0) + delta);
    }
    for (const [id, micros] of selfMicros) {
      const { callFrame } = nodes.get(id);
      const ms = micros / 1000;
      if (callFrame.functionName === '(idle)') continue;
      sampledMs += ms;
      const location = await locate(callFrame);
      const key = `${callFrame.functionName}\u0000${location}`;
      const entry = byFunction.get(key) ?? { name: callFrame.functionName || '(anonymous)', location, ms: 0 };
      entry.ms += ms;
      byFunction.set(key, entry);
      const file = fileOf(location, callFrame.functionName);
      byFile.set(file, (byFile.get(file) ?? 0) + ms);
    }
  }
  const share = (ms) => Math.round((ms / Math.max(sampledMs, 1e-9)) * 1000) / 10;
  const round = (ms) => Math.round(ms);
  return {
    profiles,
    sampledMs: round(sampledMs),
    functions: [...byFunction.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((f) => ({ ...f, ms: round(f.ms), share: share(f.ms) })),
    files: [...byFile.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([file, ms]) => ({ file, ms: round(ms), share: share(ms) })),
  };
}
