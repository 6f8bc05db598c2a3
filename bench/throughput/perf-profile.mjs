// On-CPU profile of the pull window with Linux perf (`--perf`): `perf record` samples the
// origin's and the agents' processes, every thread, user and kernel, while the clients pull.
// Unlike V8's profiler it counts only time on a CPU, so a thread waiting for a core on a busy
// machine costs nothing, and it sees the thread pool and the kernel (socket and page-cache
// copies, TCP on loopback). The components run with --perf-basic-prof, so JIT-compiled
// JavaScript has names. The summary: the share of samples per role by symbol and by where the
// symbol lives (kernel, node's C++, OpenSSL, JavaScript).
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Starts `perf record` on `pids`; returns stop(), which resolves once the data file is written. */
export function startPerf({ pids, file }) {
  const child = spawn('perf', ['record', '-F', '499', '-g', '-o', file, '-p', pids.join(',')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = once(child, 'exit');
  return {
    async stop() {
      child.kill('SIGINT');
      const [code, signal] = await exited;
      // perf writes its data on SIGINT, then exits 0 or by the signal itself.
      if (code !== 0 && signal !== 'SIGINT')
        throw new Error(`perf record failed (${code ?? signal}): ${stderr.trim()}`);
    },
  };
}

/** Where a symbol lives, from its shared object. */
function placeOf(dso, symbol) {
  if (dso.includes('kernel.kallsyms') || dso === '[unknown]') return 'kernel';
  if (dso.includes('perf-') && dso.endsWith('.map')) return 'javascript';
  if (/sha256|sha512|aesni|gcm/i.test(symbol)) return 'openssl';
  if (dso.includes('libc') || dso.includes('ld-linux')) return 'libc';
  if (/^Builtins_|^v8::/.test(symbol)) return 'v8';
  return 'node';
}

/** Which kind of thread: the event loop, the libuv thread pool, or V8's helpers (GC, compilers). */
function threadOf(comm) {
  if (comm.startsWith('libuv-worker')) return 'thread pool';
  if (comm.startsWith('V8Worker') || comm.startsWith('V8 ')) return 'V8 helpers';
  return 'event loop';
}

/**
 * Reads `file` and sums on-CPU samples per role (`roleOfPid`: pid → role): the split by thread
 * kind and by where the code lives, and the top `top` symbols. Returns { [role]: { samples,
 * threads: [{thread, share}], places: [{place, share}], symbols: [{symbol, place, share}] } }.
 */
export async function summarizePerf({ file, roleOfPid, top = 25 }) {
  const { stdout } = await run('perf', ['script', '-i', file, '-F', 'pid,comm,ip,sym,dso', '-G'], {
    maxBuffer: 512 * 1024 * 1024,
  });
  const byRole = {};
  const add = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
  for (const line of stdout.split('\n')) {
    // "      MainThread 14568           2070b53 sha256_block_data_order_shaext (/path/to/node)"
    const m = /^\s*(.+?)\s+(\d+)\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$/.exec(line);
    if (m === null) continue;
    const [, comm, pid, symbol, dso] = m;
    const role = roleOfPid.get(Number(pid));
    if (role === undefined) continue;
    const entry = (byRole[role] ??= {
      samples: 0,
      threads: new Map(),
      places: new Map(),
      symbols: new Map(),
    });
    const place = placeOf(dso, symbol);
    entry.samples++;
    add(entry.threads, threadOf(comm));
    add(entry.places, place);
    add(entry.symbols, `${symbol.replace(/^(JS:)?[+*^~']*/, '')}\u0000${place}`);
  }
  const out = {};
  for (const [role, entry] of Object.entries(byRole)) {
    const of = (x) => Math.round((x / entry.samples) * 1000) / 10;
    const shares = (map, name) =>
      [...map].sort((a, b) => b[1] - a[1]).map(([key, x]) => ({ [name]: key, share: of(x) }));
    out[role] = {
      samples: entry.samples,
      threads: shares(entry.threads, 'thread'),
      places: shares(entry.places, 'place'),
      symbols: [...entry.symbols]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([key, x]) => {
          const [symbol, place] = key.split('\u0000');
          return { symbol, place, share: of(x) };
        }),
    };
  }
  return out;
}
