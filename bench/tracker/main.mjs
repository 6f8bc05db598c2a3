// Tracker benchmark: one tracker process (the built app with its real config) driven over
// loopback by a load generator in another process that plays a fleet of agents announcing
// their active blobs (fleet-model.mjs), each agent's blobs in one batch request per interval as
// the agents do (`--batch 1`: one request per blob, as before the batch). On a machine with two
// or more cores the tracker runs on core 0 and the generator and this process on core 1
// (taskset). Reports announces and requests per second sustained in the steady phase, request
// latency p50/p90/p99/max, the tracker's CPU, RSS and heap, memory per swarm member and its
// projection to 15,000 agents × 100 blobs. Writes JSON and an SVG of throughput and p99 over
// time to bench/results/. Run by `npm run bench:tracker`.
//
//   node bench/tracker/main.mjs [--agents 15000] [--blobs 50] [--catalog 5000] [--zipf 1]
//     [--origins 3] [--interval-s 35] [--ttl-s 2×interval] [--ramp-s <interval>] [--duration-s 90]
//     [--peak-s 15] [--peak-concurrency 64] [--connections 256] [--complete-share 0.1]
//     [--leave-share 0.2] [--peers-per-announce 50] [--batch 50] [--answer binary|json] [--seed 1]
//     [--json out.json] [--out-dir bench/results] [--no-pin] [--wait-quiet-s 0] [--cpu-prof]
//     [--heap-snapshot] [--tracker-main apps/tracker/dist/main.js] [--keep] [--check]
//
// Phases, in order: seed (every origin announces every catalog blob, as fast as the tracker
// answers), ramp (every member's first announce, at the steady rate: the swarms fill up),
// steady (every member every interval, with churn) and peak (`--peak-concurrency` requests in
// flight, as fast as the tracker answers: the core's limit). See README.md.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MAX_BATCH_BLOBS } from '@kraken/p2p-core';
import { stopAll } from '../registry/child-processes.mjs';
import { createHistogram, addSparse, quantileMs } from './latency-histogram.mjs';
import { cpuSeconds, machineBusySeconds, memory, startSampler } from './process-sampler.mjs';
import { summarizeRun, summaryLines, TARGETS } from './run-summary.mjs';
import { throughputPlotSvg } from './throughput-plot.mjs';
import { canPin, pinSelf, pinned, scrapeTracker, startTracker } from './tracker-process.mjs';
import { runBenchMain, UsageError, stopOnSignals } from '../shared/bench-main.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const log = (msg) => console.error(`[bench:tracker] ${msg}`);

function number(name, raw, { min, max, integer = true }) {
  const n = Number(raw);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max)
    throw new UsageError(
      `--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got ${raw})`,
    );
  return n;
}

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      agents: { type: 'string', default: '15000' },
      blobs: { type: 'string', default: '50' },
      catalog: { type: 'string', default: '5000' },
      zipf: { type: 'string', default: '1' },
      origins: { type: 'string', default: '3' },
      'interval-s': { type: 'string', default: '35' },
      'ttl-s': { type: 'string' },
      'ramp-s': { type: 'string' },
      'duration-s': { type: 'string', default: '90' },
      'peak-s': { type: 'string', default: '15' },
      'peak-concurrency': { type: 'string', default: '64' },
      connections: { type: 'string', default: '256' },
      'complete-share': { type: 'string', default: '0.1' },
      'leave-share': { type: 'string', default: '0.2' },
      'peers-per-announce': { type: 'string', default: '50' },
      batch: { type: 'string', default: '50' },
      'max-outstanding': { type: 'string', default: '10000' },
      'sample-every': { type: 'string', default: '64' },
      answer: { type: 'string', default: 'binary' },
      seed: { type: 'string', default: '1' },
      json: { type: 'string' },
      'out-dir': { type: 'string', default: join(ROOT, 'bench', 'results') },
      'no-pin': { type: 'boolean', default: false },
      'wait-quiet-s': { type: 'string', default: '0' },
      'tracker-main': { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      'heap-snapshot': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
    },
  });
  const intervalSeconds = number('interval-s', values['interval-s'], { min: 1, max: 3600 });
  const ttlSeconds = number('ttl-s', values['ttl-s'] ?? String(2 * intervalSeconds), {
    min: intervalSeconds + 1,
    max: 86_400,
  });
  const blobs = number('blobs', values.blobs, { min: 1, max: 10_000 });
  const catalog = number('catalog', values.catalog, { min: 1, max: 10_000_000 });
  if (blobs > catalog) throw new UsageError(`--blobs (${blobs}) must not exceed --catalog (${catalog})`);
  if (values.answer !== 'binary' && values.answer !== 'json') {
    throw new UsageError(`--answer must be binary or json, got ${values.answer}`);
  }
  return {
    answer: values.answer,
    agents: number('agents', values.agents, { min: 1, max: 1_000_000 }),
    blobs,
    catalog,
    zipf: number('zipf', values.zipf, { min: 0, max: 5, integer: false }),
    origins: number('origins', values.origins, { min: 0, max: 100 }),
    intervalSeconds,
    ttlSeconds,
    rampSeconds: number('ramp-s', values['ramp-s'] ?? String(intervalSeconds), { min: 1, max: 3600 }),
    durationSeconds: number('duration-s', values['duration-s'], { min: 1, max: 86_400 }),
    peakSeconds: number('peak-s', values['peak-s'], { min: 0, max: 3600 }),
    peakConcurrency: number('peak-concurrency', values['peak-concurrency'], { min: 1, max: 100_000 }),
    connections: number('connections', values.connections, { min: 1, max: 60_000 }),
    completeShare: number('complete-share', values['complete-share'], { min: 0, max: 1, integer: false }),
    leaveShare: number('leave-share', values['leave-share'], { min: 0, max: 1, integer: false }),
    peersPerAnnounce: number('peers-per-announce', values['peers-per-announce'], { min: 1, max: 1000 }),
    batch: number('batch', values.batch, { min: 1, max: MAX_BATCH_BLOBS }),
    maxOutstanding: number('max-outstanding', values['max-outstanding'], { min: 1, max: 1_000_000 }),
    sampleEvery: number('sample-every', values['sample-every'], { min: 1, max: 1_000_000 }),
    seed: number('seed', values.seed, { min: 0, max: 2 ** 32 - 1 }),
    json: values.json,
    outDir: values['out-dir'],
    pin: !values['no-pin'],
    trackerMain: values['tracker-main'] === undefined ? undefined : resolve(values['tracker-main']),
    waitQuietSeconds: number('wait-quiet-s', values['wait-quiet-s'], { min: 0, max: 86_400 }),
    cpuProfile: values['cpu-prof'],
    heapSnapshot: values['heap-snapshot'],
    keep: values.keep,
    check: values.check,
  };
}

/**
 * Waits until the rest of the machine has been quiet (under 0.25 cores busy) for ten seconds
 * in a row, or `seconds` passed; true when it was quiet. Other work on the cores (builds, tests)
 * makes a run's latency and throughput worse than the tracker's own.
 */
async function waitQuiet(seconds) {
  const deadline = performance.now() + seconds * 1000;
  let quietFor = 0;
  while (performance.now() < deadline) {
    const machine = machineBusySeconds();
    const own = cpuSeconds(process.pid);
    await new Promise((r) => setTimeout(r, 1000));
    const other = machineBusySeconds() - machine - (cpuSeconds(process.pid) - own);
    quietFor = other < 0.25 ? quietFor + 1 : 0;
    if (quietFor >= 10) return true;
  }
  return false;
}

/** The generator as a child process with an IPC channel, pinned to `core`. */
function startGenerator(core) {
  const { command, args } = pinned(core, process.execPath, [
    new URL('load-generator.mjs', import.meta.url).pathname,
  ]);
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiters = [];
  const unclaimed = [];
  const ticks = [];
  child.on('message', (message) => {
    if (message.type === 'tick') {
      ticks.push({ ...message, at: performance.now() });
      return;
    }
    const i = waiters.findIndex((w) => w.type === message.type);
    if (i === -1) unclaimed.push(message);
    else waiters.splice(i, 1)[0].resolve(message);
  });
  const exited = new Promise((resolvePromise) => child.once('exit', (code) => resolvePromise(code)));
  return {
    child,
    ticks,
    send: (message) => child.send(message),
    next: (type) =>
      Promise.race([
        new Promise((resolvePromise) => {
          const i = unclaimed.findIndex((m) => m.type === type);
          if (i === -1) waiters.push({ type, resolve: resolvePromise });
          else resolvePromise(unclaimed.splice(i, 1)[0]);
        }),
        exited.then((code) => {
          throw new Error(`the load generator exited (${code}) while the bench waited for "${type}"`);
        }),
      ]),
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  const work = await mkdtemp(join(tmpdir(), 'kraken-bench-tracker-'));
  let failed = false;
  let generator;
  const cleanup = async () => {
    await generator?.stop();
    await stopAll();
    if (!opts.keep && !failed && !opts.cpuProfile && !opts.heapSnapshot)
      await rm(work, { recursive: true, force: true });
    else log(`kept ${work} (config, tracker log, profiles)`);
  };
  const removeSignalHandlers = stopOnSignals({
    log,
    interrupted: () => {
      failed = true;
    },
    cleanup,
  });

  try {
    const startedAt = new Date();
    const cpus = availableParallelism();
    const pin = opts.pin && cpus >= 2 && canPin();
    if (pin) pinSelf(1);
    log(pin ? 'tracker on core 0; generator and bench on core 1 (taskset)' : 'not pinned to cores');
    let quietAtStart;
    if (opts.waitQuietSeconds > 0) {
      log(`waiting up to ${opts.waitQuietSeconds} s for the machine to be quiet`);
      quietAtStart = await waitQuiet(opts.waitQuietSeconds);
      log(quietAtStart ? 'quiet: starting' : 'still busy: starting anyway');
    }
    const tracker = await startTracker({
      dir: work,
      core: pin ? 0 : undefined,
      tracker: {
        announceIntervalSeconds: opts.intervalSeconds,
        peerTtlSeconds: opts.ttlSeconds,
        peersPerAnnounce: opts.peersPerAnnounce,
      },
      cpuProfile: opts.cpuProfile,
      heapSnapshots: opts.heapSnapshot,
      main: opts.trackerMain,
    });
    log(`tracker ${tracker.url} (pid ${tracker.pid})`);

    generator = startGenerator(pin ? 1 : undefined);
    const phasePlan = [
      { name: 'seed', kind: 'closed', members: 'origins', concurrency: opts.connections },
      { name: 'ramp', kind: 'open', seconds: opts.rampSeconds },
      { name: 'steady', kind: 'open', seconds: opts.durationSeconds, churn: true },
      ...(opts.peakSeconds > 0
        ? [
            {
              name: 'peak',
              kind: 'closed',
              seconds: opts.peakSeconds,
              concurrency: opts.peakConcurrency,
              churn: true,
            },
          ]
        : []),
    ];
    generator.send({
      type: 'start',
      options: {
        url: tracker.url,
        intervalSeconds: opts.intervalSeconds,
        connections: opts.connections,
        maxOutstanding: opts.maxOutstanding,
        sampleEvery: opts.sampleEvery,
        answer: opts.answer,
        phases: phasePlan,
        fleet: {
          agents: opts.agents,
          blobsPerAgent: opts.blobs,
          catalog: opts.catalog,
          zipf: opts.zipf,
          origins: opts.origins,
          completeShare: opts.completeShare,
          leaveShare: opts.leaveShare,
          seed: opts.seed,
          batch: opts.batch,
        },
      },
    });
    const { fleet } = await generator.next('ready');
    log(
      `fleet: ${opts.agents} agents × ${opts.blobs} blobs + ${opts.origins} origins × ${opts.catalog} blobs` +
        ` = ${fleet.members} members in ${fleet.units} requests (batch ${opts.batch});` +
        ` largest swarm ${fleet.swarmSizes[0]}; offered ${Math.round(fleet.offeredPerSecond)} announces/s` +
        ` in ${Math.round(fleet.offeredRequestsPerSecond)} requests/s (every ${opts.intervalSeconds} s)`,
    );

    // Idle: the tracker started, nothing announced yet.
    await new Promise((r) => setTimeout(r, 2000));
    // The tracker's own latency histogram is read for the route the generator drives.
    const route = opts.batch > 1 ? '/v1/announce/batch' : '/v1/announce';
    const scrape = () => scrapeTracker(tracker.url, route);
    const idle = { ...memory(tracker.pid), scrape: await scrape() };
    const t0 = performance.now();
    const sampler = startSampler({
      pids: { tracker: tracker.pid, generator: generator.child.pid },
      now: () => performance.now() - t0,
    });

    const phases = [];
    const boundaries = [];
    for (const plan of phasePlan) {
      const begin = {
        at: performance.now(),
        tracker: cpuSeconds(tracker.pid),
        generator: cpuSeconds(generator.child.pid),
        bench: cpuSeconds(process.pid),
        machine: machineBusySeconds(),
      };
      log(`phase ${plan.name}`);
      generator.send({ type: 'continue' });
      const end = await generator.next('phase-end');
      const at = performance.now();
      const phase = {
        ...end,
        wallSeconds: (at - begin.at) / 1000,
        trackerCpuSeconds: cpuSeconds(tracker.pid) - begin.tracker,
        generatorCpuSeconds: cpuSeconds(generator.child.pid) - begin.generator,
        benchCpuSeconds: cpuSeconds(process.pid) - begin.bench,
        machineBusySeconds: machineBusySeconds() - begin.machine,
        maxBehindMs: Math.max(
          0,
          ...generator.ticks.filter((t) => t.phase === plan.name).map((t) => t.behindMs),
        ),
      };
      const mem = memory(tracker.pid);
      phase.before = phases.at(-1)?.after ?? idle;
      phase.after = { ...mem, scrape: await scrape() };
      if (plan.name === 'steady' && opts.heapSnapshot) {
        log('writing a heap snapshot of the tracker');
        phase.after.heapSnapshot = await tracker.heapSnapshot();
      }
      phases.push(phase);
      boundaries.push({ name: plan.name, start: (begin.at - t0) / 1000, end: (at - t0) / 1000 });
      log(
        `phase ${plan.name}: ${end.ok} announces answered in ${end.requestsOk} requests, ${end.failed} failed in ${phase.wallSeconds.toFixed(1)} s`,
      );
    }
    const done = await generator.next('done');
    sampler.stop();
    await tracker.stop();
    const profiles = opts.cpuProfile
      ? (await readdir(work)).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(work, f))
      : [];

    // Other load per second: the machine's busy cores less the tracker's and the generator's.
    const samples = sampler.samples;
    const otherLoadAt = (t) => {
      let best;
      for (const sample of samples)
        if (best === undefined || Math.abs(sample.t - t) < Math.abs(best.t - t)) best = sample;
      if (best === undefined) return undefined;
      const own = ((best.tracker.cpuPercent ?? 0) + (best.generator.cpuPercent ?? 0)) / 100;
      return Math.max(0, best.machineBusyCores - own);
    };
    const seconds = generator.ticks
      .filter((tick) => tick.at >= t0)
      .map((tick) => ({ tick, t: Math.round(tick.at - t0) / 1000 }))
      .map(({ tick, t }) => ({ tick, t, otherLoadCores: otherLoadAt(t) }));
    const summary = summarizeRun({
      phases,
      idle,
      offeredPerSecond: fleet.offeredPerSecond,
      offeredRequestsPerSecond: fleet.offeredRequestsPerSecond,
      seconds,
    });
    const timeline = seconds.map(({ tick, t, otherLoadCores }) => {
      const h = createHistogram();
      addSparse(h, tick.histogram);
      return {
        t,
        phase: tick.phase,
        sent: tick.sent,
        ok: tick.ok,
        failed: tick.failed,
        requests: tick.requests,
        requestsOk: tick.requestsOk,
        p50Ms: quantileMs(h, 0.5),
        p99Ms: quantileMs(h, 0.99),
        behindMs: tick.behindMs,
        generatorCpuPercent: Math.round(tick.cpuSeconds * 1000) / 10,
        generatorGcMs: tick.gcMs,
        generatorMaxGapMs: tick.maxGapMs,
        otherLoadCores: otherLoadCores === undefined ? undefined : Math.round(otherLoadCores * 100) / 100,
      };
    });
    const report = {
      benchmark: 'tracker',
      startedAt: startedAt.toISOString(),
      machine: {
        cpus,
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        pinned: pin,
        ...(quietAtStart === undefined ? {} : { quietAtStart }),
      },
      params: {
        agents: opts.agents,
        blobsPerAgent: opts.blobs,
        catalog: opts.catalog,
        zipf: opts.zipf,
        origins: opts.origins,
        intervalSeconds: opts.intervalSeconds,
        ttlSeconds: opts.ttlSeconds,
        rampSeconds: opts.rampSeconds,
        durationSeconds: opts.durationSeconds,
        peakSeconds: opts.peakSeconds,
        peakConcurrency: opts.peakConcurrency,
        connections: opts.connections,
        answer: opts.answer,
        completeShare: opts.completeShare,
        leaveShare: opts.leaveShare,
        peersPerAnnounce: opts.peersPerAnnounce,
        batch: opts.batch,
        seed: opts.seed,
        members: fleet.members,
        requests: fleet.units,
        largestSwarmPlanned: fleet.swarmSizes[0],
        trackerConfig: tracker.config,
        ...(opts.trackerMain === undefined ? {} : { trackerMain: opts.trackerMain }),
      },
      ...summary,
      sampledAnswers: done.sampled,
      failures: done.failures,
      profiles,
      timeline,
      processSamples: sampler.samples,
    };

    await mkdir(opts.outDir, { recursive: true });
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    const jsonPath =
      opts.json === undefined ? join(opts.outDir, `tracker-${stamp}.json`) : resolve(opts.json);
    await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    const svgPath = jsonPath.replace(/\.json$/, '') + '.svg';
    await writeFile(
      svgPath,
      throughputPlotSvg({
        points: timeline.map((p) => ({
          t: p.t,
          perSecond: p.ok,
          p99Ms: p.p99Ms ?? 0,
          otherLoadCores: p.otherLoadCores ?? 0,
        })),
        phases: boundaries,
        targets: { perSecond: TARGETS.announcesPerSecond, p99Ms: TARGETS.p99Ms },
        title: `tracker: ${opts.agents} agents × ${opts.blobs} blobs, every ${opts.intervalSeconds} s, batch ${opts.batch} (${cpus} CPUs${pin ? ', pinned' : ''})`,
      }),
    );
    console.log(JSON.stringify({ ...report, timeline: undefined, processSamples: undefined }, null, 2));
    for (const line of summaryLines(summary)) log(line);
    const wrongAnswers = ['invalid', 'wrongAnswerCount', 'self', 'seederPeers', 'wrongInterval']
      .map((key) => done.sampled[key])
      .reduce((a, b) => a + b, 0);
    log(
      `sampled answers: ${Object.entries(done.sampled)
        .map(([key, value]) => `${key} ${value}`)
        .join(', ')}`,
    );
    log(`wrote ${relative(process.cwd(), jsonPath)} and ${relative(process.cwd(), svgPath)}`);
    if (
      opts.check &&
      (summary.targets.some((t) => !t.met) || summary.phases.steady.failed > 0 || wrongAnswers > 0)
    )
      process.exitCode = 1;
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    removeSignalHandlers();
    await cleanup();
  }
}

runBenchMain('bench:tracker', main);
