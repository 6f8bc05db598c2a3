// Throughput benchmark: how close the data path runs to the machine's limit. A fresh devcluster
// on loopback, without shaping (one origin, one tracker, N agents), one S MiB layer pushed with
// skopeo through the proxy, then every agent asked for the layer through its registry port at
// the same instant. Reported: wall time, each client's time to first byte, aggregate MiB/s, CPU
// seconds per GiB delivered by role (from /proc), agent memory, and bytes from the origin ÷ S.
// In the same invocation, the floor (floor-peer.mjs): processes that do only the work each
// delivered byte needs, with the same sizes and concurrency; the product's CPU per GiB is divided
// by the floor's from the same run. Run by `npm run bench:throughput`.
//
//   node bench/throughput/main.mjs [--agents 4] [--size-mib 1024] [--runs 1] [--json out.json]
//     [--cpu-prof] [--perf] [--keep-caches] [--p2p '{"syncIntervalMs":1000}'] [--dir /tmp]
//     [--out-dir bench/results] [--timeout-s 600] [--keep] [--check]
//
// --cpu-prof runs every component under `node --cpu-prof` and prints where the main threads
// spent the pull window (profile-summary.mjs); --perf samples every thread of the origin and the
// agents with Linux perf (perf-profile.mjs). --keep-caches skips the page-cache reset before each
// run's pulls (page-cache.mjs). --p2p is merged into every agent's and the origin's p2p block,
// for tuning runs. --json writes the report there (the SVG beside it) instead of
// bench/results/throughput-<timestamp>.json. --check exits 1 when a target is missed.
import { generateMetainfo } from '@kraken/p2p-core';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeImageSet } from '../replication/image-set.mjs';
import { runCluster } from './cluster-run.mjs';
import { runFloor } from './floor-run.mjs';
import { summarizePerf } from './perf-profile.mjs';
import { summarizeProfiles } from './profile-summary.mjs';
import { summarizeRun, summaryLines, targetsOf } from './run-report.mjs';
import { throughputPlotSvg } from './throughput-plot.mjs';
import { runBenchMain, UsageError } from '../shared/bench-main.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const log = (msg) => console.error(`[bench:throughput] ${msg}`);

/** `--p2p '{"syncIntervalMs":1000}'`: merged into every agent's and the origin's p2p block. */
function parseP2p(raw) {
  let value;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`--p2p must be a JSON object: ${err.message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new UsageError('--p2p must be a JSON object');
  return value;
}

function options() {
  const { values } = parseArgs({
    options: {
      agents: { type: 'string', default: '4' },
      'size-mib': { type: 'string', default: '1024' },
      runs: { type: 'string', default: '1' },
      json: { type: 'string' },
      'out-dir': { type: 'string', default: join(ROOT, 'bench', 'results') },
      dir: { type: 'string', default: tmpdir() },
      'timeout-s': { type: 'string', default: '600' },
      'cpu-prof': { type: 'boolean', default: false },
      perf: { type: 'boolean', default: false },
      'keep-caches': { type: 'boolean', default: false },
      p2p: { type: 'string' },
      keep: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
    },
  });
  const int = (name, min, max) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new UsageError(`--${name}: an integer from ${min} to ${max}`);
    return n;
  };
  return {
    agents: int('agents', 1, 16),
    sizeMiB: int('size-mib', 1, 16_384),
    runs: int('runs', 1, 20),
    timeoutMs: int('timeout-s', 10, 7200) * 1000,
    json: values.json === undefined ? undefined : resolve(values.json),
    outDir: values['out-dir'],
    dir: values.dir,
    cpuProf: values['cpu-prof'],
    perf: values.perf,
    dropCaches: !values['keep-caches'],
    p2p: values.p2p === undefined ? undefined : parseP2p(values.p2p),
    keep: values.keep,
    check: values.check,
  };
}

async function main() {
  const opts = options();
  const startedAt = new Date();
  const work = await mkdtemp(join(opts.dir, 'kraken-bench-throughput-'));
  let failed = false;
  try {
    const size = opts.sizeMiB * 1024 * 1024;
    log(`writing one ${opts.sizeMiB} MiB random layer as an OCI layout under ${work}`);
    const imageDir = join(work, 'image');
    const {
      images: [image],
    } = await writeImageSet({
      dir: imageDir,
      plan: [{ repo: 'bench/throughput', tag: 'v1', layers: [{ key: 'layer', size }] }],
    });
    const layer = image.blobs[0];
    const layerPath = join(imageDir, 'pool', layer.digest.slice('sha256:'.length));
    // The floor checks each piece with its own sha256: plain piece hashes.
    const metainfo = await generateMetainfo(createReadStream(layerPath), {
      digest: layer.digest,
      size,
      pieceHashing: 'sha256',
    });
    log(`layer ${layer.digest}: ${metainfo.pieceHashes.length} pieces of ${metainfo.pieceLength / 1024} KiB`);

    const loadBefore = loadavg();
    const runs = [];
    for (let r = 1; r <= opts.runs; r++) {
      const profileDir = opts.cpuProf ? join(work, `profiles-${r}`) : undefined;
      if (profileDir !== undefined) await mkdir(profileDir, { recursive: true });
      const clusterDir = join(work, `run-${r}`);
      const perfFile = opts.perf ? join(work, `perf-${r}.data`) : undefined;
      const runProduct = async () => {
        log(`run ${r}/${opts.runs}: product (fresh cluster, ${opts.agents} agents)`);
        const result = await runCluster({
          dir: clusterDir,
          agents: opts.agents,
          image: { layout: image.layout, repo: image.repo, tag: image.tag, layer },
          timeoutMs: opts.timeoutMs,
          profileDir,
          perfFile,
          dropCaches: opts.dropCaches,
          p2p: opts.p2p,
          log,
        });
        const summary =
          perfFile === undefined
            ? undefined
            : await summarizePerf({ file: perfFile, roleOfPid: result.roleOfPid });
        // The JIT maps --perf-basic-prof wrote are only needed by the report above (and by
        // `perf report -i <kept perf data>`).
        if (!opts.keep)
          for (const pid of result.roleOfPid.keys()) await rm(`/tmp/perf-${pid}.map`, { force: true });
        if (perfFile !== undefined) await moveV8Logs([...result.roleOfPid.keys()], work);
        if (!opts.keep) await rm(clusterDir, { recursive: true, force: true });
        return { result, summary };
      };
      const runFloorPhase = () => {
        log(`run ${r}/${opts.runs}: floor`);
        return runFloor({
          dir: join(work, `floor-${r}`),
          agents: opts.agents,
          blob: { path: layerPath, digest: layer.digest, size, metainfo },
          timeoutMs: opts.timeoutMs,
          dropCaches: opts.dropCaches,
        });
      };
      // Odd runs measure the product first, even runs the floor: whichever runs second writes
      // into memory the first one just freed (page-cache.mjs), so neither always does.
      const productFirst = r % 2 === 1;
      let product;
      let perfSummary;
      let floor;
      if (productFirst) {
        ({ result: product, summary: perfSummary } = await runProduct());
        floor = await runFloorPhase();
      } else {
        floor = await runFloorPhase();
        ({ result: product, summary: perfSummary } = await runProduct());
      }
      const run = {
        order: productFirst ? 'product, floor' : 'floor, product',
        ...summarizeRun({ product, floor, size, agents: opts.agents }),
      };
      if (profileDir !== undefined) {
        const pidsOf = (role) => [...product.roleOfPid].filter(([, r2]) => r2 === role).map(([pid]) => pid);
        run.profile = {};
        for (const role of ['origin', 'agents']) {
          run.profile[role] = await summarizeProfiles({
            dir: profileDir,
            pids: pidsOf(role),
            startMicros: product.window.startMicros,
            endMicros: product.window.endMicros,
          });
        }
      }
      if (perfSummary !== undefined) run.perf = perfSummary;
      runs.push(run);
      for (const line of summaryLines(run, r)) log(line);
      if (run.failedPulls > 0) failed = true;
    }

    const report = {
      benchmark: 'throughput',
      startedAt: startedAt.toISOString(),
      machine: {
        cpus: availableParallelism(),
        cpuModel: cpus()[0]?.model ?? 'unknown',
        node: process.version,
        openssl: process.versions.openssl,
        // Other work on the machine shows here and in machineCores of each run.
        loadAverage: { before: loadBefore.map(round2), after: loadavg().map(round2) },
      },
      params: {
        agents: opts.agents,
        sizeMiB: opts.sizeMiB,
        pieceLength: metainfo.pieceLength,
        pieces: metainfo.pieceHashes.length,
        runs: opts.runs,
        dir: opts.dir,
        cpuProf: opts.cpuProf,
        // Whether the page cache was dropped before each run's pulls (page-cache.mjs).
        dropCaches: opts.dropCaches && process.getuid?.() === 0,
        ...(opts.p2p === undefined ? {} : { p2p: opts.p2p }),
      },
      ...targetsOf(runs, opts),
      runs,
    };
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    const jsonPath = opts.json ?? join(opts.outDir, `throughput-${stamp}.json`);
    const svgPath = jsonPath.replace(/\.json$/, '') + '.svg';
    await mkdir(dirname(jsonPath), { recursive: true });
    await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    const last = runs[runs.length - 1];
    await writeFile(
      svgPath,
      throughputPlotSvg({
        title: `${opts.agents} agents × ${opts.sizeMiB} MiB on loopback: product vs floor`,
        progress: last.progress,
        cpu: runs.map((r) => ({ product: r.product.cpuSecondsPerGiB, floor: r.floor.cpuSecondsPerGiB })),
        sizeBytes: size,
      }),
    );
    // The per-sample progress is for the plot; stdout gets the rest.
    const withoutProgress = (run) =>
      Object.fromEntries(Object.entries(run).filter(([key]) => key !== 'progress'));
    console.log(JSON.stringify({ ...report, runs: runs.map(withoutProgress) }, null, 2));
    log(`wrote ${relative(process.cwd(), jsonPath)} and ${relative(process.cwd(), svgPath)}`);
    for (const [name, target] of Object.entries(report.targets)) {
      log(`target ${name}: ${target.value} (${target.goal}) ${target.met ? 'met' : 'NOT met'}`);
    }
    if (opts.check && Object.values(report.targets).some((t) => !t.met)) failed = true;
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    if (opts.keep || failed) log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}

/**
 * With --perf-basic-prof, V8 also writes an `isolate-<address>-<pid>-v8.log` into each
 * component's working directory, the repository root: they go with the run's other files.
 */
async function moveV8Logs(pids, into) {
  const wanted = new Set(pids.map(String));
  for (const name of await readdir(ROOT)) {
    const pid = /^isolate-0x[0-9a-f]+-(\d+)-v8\.log$/.exec(name)?.[1];
    if (pid === undefined || !wanted.has(pid)) continue;
    const from = join(ROOT, name);
    await rename(from, join(into, name)).catch(async () => {
      await copyFile(from, join(into, name));
      await rm(from, { force: true });
    });
  }
}

const round2 = (x) => Math.round(x * 100) / 100;

runBenchMain('bench:throughput', main);
