// Agent memory benchmark: a cluster on loopback started by the devcluster's startCluster (one
// origin, tracker, build-index and proxy, N agents), from the built apps. Reports each agent's
// RSS, V8 heap, external memory and array buffers once it has been idle for a while after start,
// then pushes an image with one layer of --size-mib MiB (skopeo, through the proxy) and has every
// agent pull it at once through its own registry port (the manifest by tag, then the layer, which
// travels through the swarm), and reports each agent's peak RSS (VmHWM) over the pull.
// Writes JSON to bench/results/. Run by `npm run bench:agent-memory`.
//
//   node bench/agent-memory/main.mjs [--agents 4] [--size-mib 1024] [--idle-seconds 10]
//     [--agent-config '<json>'] [--node-options '<flags>'] [--heap-snapshots]
//     [--out-dir bench/results] [--keep] [--check]
//
// --agent-config is merged into every agent's config (e.g. '{"p2p":{"bufferPoolBytes":8388608}}',
// for tuning runs) and recorded under params.agentConfig.
// --node-options sets NODE_OPTIONS for every component (to try V8 flags); --heap-snapshots
// writes a heap snapshot of the first agent when idle and after the pull into the output
// directory, after the figures are read. --check exits 1 when a target is missed; --keep leaves
// the temp dir (layout, cluster data, configs, logs), which is also kept after a failure.
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startCluster } from '@kraken/devcluster';
import { writeImageSet } from '../replication/image-set.mjs';
import { hostOf, skopeoCopy } from '../replication/skopeo-copy.mjs';
import { blobStatus, pullEverywhere } from './concurrent-pull.mjs';
import { cpuSeconds, gcSeconds, memorySample, procMemory, resetPeak, startSampler } from './memory-probe.mjs';
import { summarize, summaryLines } from './report.mjs';
import { runBenchMain, UsageError, stopOnSignals } from '../shared/bench-main.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const REPO = 'bench/agent-memory';
const TAG = 'v1';
const log = (msg) => console.error(`[bench:agent-memory] ${msg}`);

/** A bad flag: reported as one line, without a stack. */

function positiveInt(name, raw, max) {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new UsageError(`--${name} must be an integer from 1 to ${max} (got ${raw})`);
  return n;
}

function jsonObject(name, raw) {
  if (raw === undefined) return undefined;
  let value;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new UsageError(`--${name} must be JSON (got ${raw})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new UsageError(`--${name} must be a JSON object (got ${raw})`);
  return value;
}

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      agents: { type: 'string', default: '4' },
      'size-mib': { type: 'string', default: '1024' },
      'idle-seconds': { type: 'string', default: '10' },
      'agent-config': { type: 'string' },
      'node-options': { type: 'string' },
      'heap-snapshots': { type: 'boolean', default: false },
      'out-dir': { type: 'string', default: join(ROOT, 'bench', 'results') },
      keep: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
    },
  });
  return {
    agents: positiveInt('agents', values.agents, 32),
    sizeMiB: positiveInt('size-mib', values['size-mib'], 16 * 1024),
    idleSeconds: positiveInt('idle-seconds', values['idle-seconds'], 600),
    agentConfig: jsonObject('agent-config', values['agent-config']),
    nodeOptions: values['node-options'],
    heapSnapshots: values['heap-snapshots'],
    outDir: values['out-dir'],
    keep: values.keep,
    check: values.check,
  };
}

/** Has the first agent write a heap snapshot (--heapsnapshot-signal) and moves it to `path`. */
async function heapSnapshot(agent, dir, path) {
  const before = new Set(await readdir(dir));
  agent.child.kill('SIGUSR2');
  for (let waited = 0; waited < 120_000; waited += 500) {
    await sleep(500);
    const written = (await readdir(dir)).filter((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    // The file appears when the write starts; the process's RSS settles when it ends.
    if (written.length > 0) {
      await sleep(2000);
      await rename(join(dir, written[0]), path);
      return path;
    }
  }
  throw new Error(`${agent.name} wrote no heap snapshot`);
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  const work = await mkdtemp(join(tmpdir(), 'kraken-bench-agent-memory-'));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  await mkdir(opts.outDir, { recursive: true });
  let cluster;
  let failed = false;
  const cleanup = async () => {
    await cluster?.stop();
    if (!opts.keep && !failed) await rm(work, { recursive: true, force: true });
    else log(`kept ${work} (layout, cluster data, configs, logs)`);
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
    const sizeBytes = opts.sizeMiB * 1024 * 1024;
    log(`writing an image with one ${opts.sizeMiB} MiB layer to ${work}`);
    const set = await writeImageSet({
      dir: join(work, 'image'),
      plan: [{ repo: REPO, tag: TAG, layers: [{ key: 'layer', size: sizeBytes }] }],
    });
    const image = set.images[0];
    const layer = image.blobs[0];

    // Children inherit the environment: this reaches every component.
    const snapshotDir = join(work, 'snapshots');
    const nodeOptions = [
      opts.nodeOptions,
      ...(opts.heapSnapshots ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`] : []),
    ].filter((o) => o !== undefined);
    if (opts.heapSnapshots) await mkdir(snapshotDir);
    if (nodeOptions.length > 0) process.env.NODE_OPTIONS = nodeOptions.join(' ');

    log(`starting a cluster with ${opts.agents} agents`);
    cluster = await startCluster({
      dir: join(work, 'cluster'),
      agents: opts.agents,
      ports: 'free',
      logLevel: 'warn',
      ...(opts.agentConfig === undefined ? {} : { overrides: { agent: opts.agentConfig } }),
    });
    const agents = cluster.components.filter((c) => c.app === 'agent');

    log(`idle for ${opts.idleSeconds} s`);
    await sleep(opts.idleSeconds * 1000);
    // VmHWM here is the start-up peak; the pull's peak is read after a reset.
    const idle = await Promise.all(agents.map((a) => memorySample(a)));
    const snapshots = [];
    if (opts.heapSnapshots) {
      snapshots.push(
        await heapSnapshot(
          agents[0],
          snapshotDir,
          join(opts.outDir, `agent-memory-${stamp}-idle.heapsnapshot`),
        ),
      );
    }

    log(`pushing ${REPO}:${TAG} through the proxy with skopeo`);
    const pushMs = await skopeoCopy(
      `oci:${image.layout}:${TAG}`,
      `docker://${hostOf(cluster.endpoints.proxy[0])}/${REPO}:${TAG}`,
    );

    // Kraken computes a blob's metainfo (piece hashes) when the blob is pushed; our origin does it
    // on the first request, which for a large blob outlasts the agents' metainfo timeout and
    // sends them to the fallback. Asked for once here, as bench:p2p does.
    const metainfo = await fetch(`${cluster.endpoints.origin[0]}/v1/blobs/${layer.digest}/metainfo`, {
      signal: AbortSignal.timeout(600_000),
    });
    if (metainfo.status !== 200) throw new Error(`origin metainfo: HTTP ${metainfo.status}`);
    await metainfo.arrayBuffer();

    log(`every agent pulls the ${opts.sizeMiB} MiB layer at once`);
    await Promise.all(agents.map((a) => resetPeak(a.child.pid)));
    const cpuBefore = await Promise.all(agents.map((a) => cpuSeconds(a.child.pid)));
    const gcBefore = await Promise.all(agents.map((a) => gcSeconds(a.url, a.app)));
    const sampler = startSampler(agents);
    const pulls = await pullEverywhere({
      agents,
      repo: REPO,
      tag: TAG,
      layer,
      timeoutMs: Math.max(300_000, opts.sizeMiB * 1000),
    });
    const maxima = await sampler.stop();
    const peaks = await Promise.all(agents.map((a) => procMemory(a.child.pid)));
    const cpuAfter = await Promise.all(agents.map((a) => cpuSeconds(a.child.pid)));
    const gcAfter = await Promise.all(agents.map((a) => gcSeconds(a.url, a.app)));
    const statuses = await Promise.all(agents.map((a) => blobStatus(a.url, layer.digest)));
    // What stays once the swarm is over (the agents keep seeding for a while).
    await sleep(5000);
    const after = await Promise.all(agents.map((a) => memorySample(a)));
    if (opts.heapSnapshots) {
      snapshots.push(
        await heapSnapshot(
          agents[0],
          snapshotDir,
          join(opts.outDir, `agent-memory-${stamp}-after.heapsnapshot`),
        ),
      );
    }

    const result = summarize(
      agents.map((a, i) => ({
        name: a.name,
        idle: idle[i],
        pull: {
          peakRssBytes: peaks[i].hwmBytes,
          maxima: maxima[a.name],
          cpuSeconds: Math.round((cpuAfter[i] - cpuBefore[i]) * 100) / 100,
          gcSeconds: Object.fromEntries(
            Object.entries(gcAfter[i]).map(([kind, s]) => [
              kind,
              Math.round((s - (gcBefore[i][kind] ?? 0)) * 1000) / 1000,
            ]),
          ),
          ...pulls[i],
          status: statuses[i],
        },
        after: after[i],
      })),
    );
    const report = {
      benchmark: 'agent-memory',
      startedAt: startedAt.toISOString(),
      machine: { cpus: availableParallelism(), node: process.version },
      params: {
        agents: opts.agents,
        sizeMiB: opts.sizeMiB,
        idleSeconds: opts.idleSeconds,
        agentConfig: opts.agentConfig ?? null,
        nodeOptions: opts.nodeOptions ?? null,
        layerDigest: layer.digest,
        pushSeconds: Math.round(pushMs / 100) / 10,
      },
      summary: result.summary,
      targets: result.targets,
      agents: result.perAgent,
      ...(snapshots.length === 0 ? {} : { heapSnapshots: snapshots.map((s) => relative(ROOT, s)) }),
    };
    const file = join(opts.outDir, `agent-memory-${stamp}.json`);
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify({ ...report, agents: undefined }, null, 2));
    for (const line of summaryLines(result, opts.sizeMiB)) log(line);
    log(`wrote ${relative(process.cwd(), file)}`);
    if (result.summary.failedPulls.length > 0) failed = true;
    if (opts.check && (failed || result.targets.some((t) => !t.met))) process.exitCode = 1;
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    removeSignalHandlers();
    await cleanup();
  }
}

runBenchMain('bench:agent-memory', main);
