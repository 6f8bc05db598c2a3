// P2P benchmark: a tracker, an origin and N agents, each on its own host of a test network of
// Linux network namespaces whose links are shaped to R MB/s each way. Every agent pulls the same
// S MiB blob at the same instant, once through the swarm (GET from its agent) and once directly
// from the origin over HTTP (the baseline); prints and saves completion-time percentiles,
// efficiency (S/R)/t, origin egress ÷ S and CPU use, with an SVG of both runs' CDFs.
// Run by `npm run bench:p2p` (as root: it creates namespaces, veth pairs and qdiscs).
// `--ha` (`npm run bench:ha`) runs the swarm twice over rings of origins and trackers: once
// undisturbed, once with the blob's first origin owner and its tracker SIGKILLed at 50% of S/R,
// and reports the two side by side.
//
//   node bench/p2p/main.mjs [--agents 16] [--size-mib 256] [--rate-mbps 1] [--runs direct,p2p]
//     [--mtu 9000] [--queue-ms 200] [--baseline-agents 16] [--kill origin@50%] [--origins 1]
//     [--trackers 1] [--p2p '{"scheduler":{"pipelineDepth":2}}'] [--out-dir bench/results]
//     [--keep] [--check]
//   node bench/p2p/main.mjs --ha [--agents 8] [--size-mib 64] [--rate-mbps 1] [--origins 2]
//     [--trackers 2] [--kill-at 50]
//   node bench/p2p/main.mjs --check-network [--rate-mbps 1] [--mtu 9000] [--queue-ms 200]
//
// --p2p is merged into the p2p block (connections, bandwidth, scheduler) of every agent and
// origin, for tuning runs; the apps validate it at start. --rate-mbps is in megabytes per second
// (10^6 B/s), as tc's "mbps" unit. --mtu sets every link's frame size and --queue-ms the tbf
// queue toward each host (test-network.mjs and link-shaping.mjs say why 9000 and 200, and why a
// host's own end queues 1000 frames). --check exits 1 when a
// target is missed; --keep leaves the temp dir (configs, data, logs), which is also kept after a
// failure. --check-network only builds a two-host network, measures one shaped transfer and
// 32 at once, and tears it down, failing if the rate is off, a connection is cut or anything is
// left behind.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { createFixtures } from '../registry/blob-fixtures.mjs';
import { agentNames, originNames, OWNER_ROLES, runBench, trackerNames } from './bench-runs.mjs';
import { haReport, haSummaryLines } from './ha-summary.mjs';
import { cdfPlotSvg } from './cdf-plot.mjs';
import { withNetwork } from './network-session.mjs';
import { checkTargets, summaryLines } from './run-summary.mjs';
import { checkParallelFlows, checkShaping } from './shaping-check.mjs';
import { exitOnSignals, onTeardown, wasInterrupted } from './teardown-stack.mjs';
import { DEFAULT_QUEUE_MS } from './link-shaping.mjs';
import { DEFAULT_MTU, kernelRelease, MAX_MTU, MIN_MTU } from './test-network.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const RUNS = ['direct', 'p2p'];
const MAX_AGENTS = 200;
const MAX_SERVERS = 5;
// bench:p2p's defaults, and --ha's: two runs of 8 agents × 64 MiB at 1 MB/s (S/R 67 s) fit in
// about ten minutes on two cores.
const DEFAULTS = {
  p2p: { agents: 16, 'size-mib': 256, origins: 1, trackers: 1 },
  ha: { agents: 8, 'size-mib': 64, origins: 2, trackers: 2 },
};
const SERIES_NAMES = {
  p2p: 'P2P (via agents)',
  direct: 'direct from origin',
  undisturbed: 'P2P undisturbed',
  disturbed: 'P2P, origin + tracker killed',
};
const log = (msg) => console.error(`[bench:p2p] ${msg}`);

/** A bad flag: reported as one line, without a stack. */
class UsageError extends Error {}

function positiveNumber(name, raw, max, integer = true) {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n)))
    throw new UsageError(
      `--${name} must be ${integer ? 'an integer' : 'a number'} from 1 to ${max} (got ${raw})`,
    );
  return n;
}

function mtuOption(raw) {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < MIN_MTU || n > MAX_MTU)
    throw new UsageError(`--mtu must be an integer from ${MIN_MTU} to ${MAX_MTU} (got ${raw})`);
  return n;
}

/** `--kill origin@50%`: SIGKILL that host's app when `percent` of S/R has passed in the P2P run. */
function parseKill(raw) {
  if (raw === undefined) return undefined;
  const m = /^([a-z][a-z0-9-]*)@(\d{1,3})%$/.exec(raw);
  if (m === null || Number(m[2]) > 1000)
    throw new UsageError(`--kill must look like origin@50% (got ${raw})`);
  return { host: m[1], percentOfIdeal: Number(m[2]) };
}

function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        ha: { type: 'boolean', default: false },
        'kill-at': { type: 'string', default: '50' },
        agents: { type: 'string' },
        'size-mib': { type: 'string' },
        origins: { type: 'string' },
        trackers: { type: 'string' },
        // 16 agents at R make 16·R of swarm traffic, all on this machine's cores: at 8 and 2 MB/s
        // two cores were the bottleneck (README); at 1 MB/s the swarm needs about one.
        'rate-mbps': { type: 'string', default: '1' },
        mtu: { type: 'string', default: String(DEFAULT_MTU) },
        'queue-ms': { type: 'string', default: String(DEFAULT_QUEUE_MS) },
        runs: { type: 'string', default: RUNS.join(',') },
        'baseline-agents': { type: 'string' },
        kill: { type: 'string' },
        p2p: { type: 'string' },
        'out-dir': { type: 'string', default: join(ROOT, 'bench', 'results') },
        keep: { type: 'boolean', default: false },
        check: { type: 'boolean', default: false },
        'check-network': { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError(err.message);
  }
  const defaults = DEFAULTS[values.ha ? 'ha' : 'p2p'];
  const pick = (name) => values[name] ?? String(defaults[name]);
  if (values.ha && (values.runs !== RUNS.join(',') || values.kill !== undefined))
    throw new UsageError('--ha runs its own two p2p runs; --runs and --kill do not apply (see --kill-at)');
  const runs = values.ha ? ['p2p'] : values.runs.split(',').filter((r) => r !== '');
  if (runs.length === 0 || runs.some((r) => !RUNS.includes(r)) || new Set(runs).size !== runs.length)
    throw new UsageError(`--runs takes a comma-separated subset of ${RUNS.join(',')} (got ${values.runs})`);
  const agents = positiveNumber('agents', pick('agents'), MAX_AGENTS);
  const origins = positiveNumber('origins', pick('origins'), MAX_SERVERS);
  const trackers = positiveNumber('trackers', pick('trackers'), MAX_SERVERS);
  const killAt = positiveNumber('kill-at', values['kill-at'], 1000);
  if (values.ha && (origins < 2 || trackers < 2))
    throw new UsageError('--ha needs at least 2 origins and 2 trackers: one of each is killed');
  // Every agent, as a central registry would serve them; that takes N·S/R (72 min for 16 × 256 MiB
  // at 1 MB/s), so --baseline-agents k runs a shorter baseline of k agents.
  const baselineAgents =
    values['baseline-agents'] === undefined
      ? agents
      : positiveNumber('baseline-agents', values['baseline-agents'], agents);
  const kill = parseKill(values.kill);
  if (kill !== undefined && !runs.includes('p2p')) throw new UsageError('--kill applies to the p2p run only');
  const hosts = [...originNames(origins), ...trackerNames(trackers), ...agentNames(agents)];
  if (kill !== undefined && !hosts.includes(kill.host) && OWNER_ROLES[kill.host] === undefined)
    throw new UsageError(
      `--kill: no host ${kill.host} (hosts: ${hosts.slice(0, -agents).join(', ')}, a…; or ` +
        `${Object.keys(OWNER_ROLES).join(', ')})`,
    );
  // The disturbed HA run kills the blob's first origin owner and its tracker at the same instant.
  const p2pRuns = values.ha
    ? [
        { name: 'undisturbed', kill: [] },
        {
          name: 'disturbed',
          kill: ['origin-owner', 'tracker-owner'].map((host) => ({ host, percentOfIdeal: killAt })),
        },
      ]
    : runs.includes('p2p')
      ? [{ name: 'p2p', kill: kill === undefined ? [] : [kill] }]
      : [];
  let p2p;
  try {
    p2p = values.p2p === undefined ? undefined : JSON.parse(values.p2p);
  } catch (err) {
    throw new UsageError(`--p2p takes a JSON object of p2p settings (${err.message})`);
  }
  if (p2p !== undefined && (p2p === null || typeof p2p !== 'object' || Array.isArray(p2p)))
    throw new UsageError('--p2p takes a JSON object of p2p settings');
  return {
    ha: values.ha,
    p2p,
    agents,
    origins,
    trackers,
    p2pRuns,
    baselineAgents,
    sizeMiB: positiveNumber('size-mib', pick('size-mib'), 16_384),
    rateMBps: positiveNumber('rate-mbps', values['rate-mbps'], 10_000, false),
    mtu: mtuOption(values.mtu),
    queueMs: positiveNumber('queue-ms', values['queue-ms'], 10_000),
    // The direct baseline runs first: the agents are not started yet, so nothing else is on the wire.
    runs: RUNS.filter((r) => runs.includes(r)),
    kill,
    outDir: values['out-dir'],
    keep: values.keep,
    check: values.check,
    checkNetwork: values['check-network'],
  };
}

async function checkNetworkOnly(opts) {
  const bytesPerSecond = opts.rateMBps * 1e6;
  const logDir = await mkdtemp(join(tmpdir(), 'kraken-bench-p2p-net-'));
  const removeLogs = onTeardown(() => rm(logDir, { recursive: true, force: true }));
  try {
    const network = {
      hosts: ['h1', 'h2'],
      bytesPerSecond,
      mtu: opts.mtu,
      queueMs: opts.queueMs,
      logDir,
      log,
    };
    await withNetwork(network, async ({ drivers }) => {
      const [from, to] = [drivers.get('h1'), drivers.get('h2')];
      await checkShaping({ from, to, bytesPerSecond, log });
      await checkParallelFlows({ from, to, bytesPerSecond, log });
    });
    log('network check passed: shaped transfer measured, parallel flows complete, nothing left behind');
  } finally {
    await removeLogs();
  }
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  exitOnSignals(log);
  if (opts.checkNetwork) return checkNetworkOnly(opts);

  const work = await mkdtemp(join(tmpdir(), 'kraken-bench-p2p-'));
  let failed = false;
  const removeWork = onTeardown(async () => {
    if (!opts.keep && !failed) await rm(work, { recursive: true, force: true });
    else log(`kept ${work} (configs, data, logs)`);
  });
  const logDir = join(work, 'logs');
  await mkdir(logDir);
  try {
    const startedAt = new Date();
    log(`writing a ${opts.sizeMiB} MiB random blob to ${work}`);
    await mkdir(join(work, 'fixtures'));
    const {
      blobs: [blob],
    } = await createFixtures({ dir: join(work, 'fixtures'), count: 1, size: opts.sizeMiB * 1024 * 1024 });

    const hosts = [...trackerNames(opts.trackers), ...originNames(opts.origins), ...agentNames(opts.agents)];
    const bytesPerSecond = opts.rateMBps * 1e6;
    log(
      `test network: ${hosts.length} hosts, links shaped to ${opts.rateMBps} MB/s each way, ` +
        `MTU ${opts.mtu}, ${opts.queueMs} ms queues toward each host`,
    );
    const { runs, shaping, idealSeconds, owners } = await withNetwork(
      { hosts, bytesPerSecond, mtu: opts.mtu, queueMs: opts.queueMs, logDir, log },
      (network) => runBench({ opts, p2pRuns: opts.p2pRuns, ...network, work, blob, log }),
    );
    if (wasInterrupted()) return;

    const params = {
      agents: opts.agents,
      origins: opts.origins,
      trackers: opts.trackers,
      baselineAgents: opts.runs.includes('direct') && !opts.ha ? opts.baselineAgents : null,
      sizeMiB: opts.sizeMiB,
      sizeBytes: blob.size,
      rateMBps: opts.rateMBps,
      rateBytesPerSecond: bytesPerSecond,
      mtu: opts.mtu,
      queueMs: opts.queueMs,
      idealSeconds: Math.round(idealSeconds * 1000) / 1000,
      runs: opts.ha ? opts.p2pRuns.map((r) => r.name) : opts.runs,
      p2p: opts.p2p ?? null,
      kill: opts.kill ?? null,
      blobOwners: owners,
    };
    const targets = checkTargets(opts.ha ? runs.undisturbed : runs.p2p);
    const benchmark = opts.ha ? 'ha' : 'p2p';
    const report = {
      benchmark,
      startedAt: startedAt.toISOString(),
      machine: {
        cpus: availableParallelism(),
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        kernel: kernelRelease(),
      },
      params,
      shaping,
      runs,
      targets,
      ...(opts.ha ? { comparison: haReport(runs) } : {}),
    };

    await mkdir(opts.outDir, { recursive: true });
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    const jsonPath = join(opts.outDir, `${benchmark}-${stamp}.json`);
    await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify(report, null, 2));
    log(`wrote ${relative(process.cwd(), jsonPath)}`);
    const svgPath = join(opts.outDir, `${benchmark}-${stamp}.svg`);
    const series = Object.entries(runs).map(([name, r]) => ({
      name: `${SERIES_NAMES[name] ?? name}, ${r.agents} agents`,
      times: r.perAgent.filter((a) => a.ok).map((a) => a.seconds),
      total: r.agents,
    }));
    const title = `${opts.sizeMiB} MiB to ${opts.agents} agents over ${opts.rateMBps} MB/s links, MTU ${opts.mtu} (${report.machine.cpus} CPUs)`;
    await writeFile(svgPath, cdfPlotSvg({ series, idealSeconds, title }));
    log(`wrote ${relative(process.cwd(), svgPath)}`);
    for (const line of summaryLines({ runs, targets, params, shaping })) log(line);
    if (opts.ha) for (const line of haSummaryLines(report.comparison)) log(line);
    const anyFailed = Object.values(runs).some((r) => r.partial);
    if (anyFailed) log('some pulls failed; see perAgent[].error in the JSON and the logs');
    if (anyFailed || (opts.check && targets.some((t) => !t.met))) {
      failed = anyFailed;
      process.exitCode = 1;
    }
  } catch (err) {
    // An interrupted run is not a failure to investigate: its temp dir goes too.
    if (!wasInterrupted()) failed = true;
    throw err;
  } finally {
    await removeWork();
  }
}

main().catch((err) => {
  // After SIGINT/SIGTERM, failures are the teardown's doing; the signal handler exits 130.
  if (wasInterrupted()) return;
  console.error(`[bench:p2p] ${err instanceof UsageError ? err.message : `failed: ${err.stack ?? err}`}`);
  process.exit(1);
});
