// Replication benchmark: two clusters on loopback (a → b by one rule over bench/.*, started by
// the devcluster's startClusters), a stream of images pushed to a's proxy with skopeo, one after
// another, each watched for on b's agent. Reports the replication lag (push completed on a → the
// tag served by b's agent) p50/p90/p99/max, bytes copied ÷ unique bytes pushed, and replication
// throughput (unique bytes ÷ first push → last tag served on b) against the baseline a user would
// script today: `skopeo copy` of the same images from a's proxy to a fresh cluster c's proxy.
// Then the catch-up: a rule created on a towards a fresh cluster d, timed until d serves every
// tag (replication alone, not paced by the pushes, against the same baseline).
// Writes JSON and an SVG of lag over time to bench/results/. Run by `npm run bench:replication`.
//
//   node bench/replication/main.mjs [--images 50] [--size-mib 10] [--share-group 5]
//     [--poll-ms 100] [--out-dir bench/results] [--keep] [--check]
//
// Each image has three layers: a base (half of --size-mib) shared by --share-group consecutive
// images, and two of its own (a third and a sixth). --check exits 1 when a target is missed;
// --keep leaves the temp dir (layouts, cluster data, configs, logs), which is also kept after a
// failure.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster, startClusters } from '@kraken/devcluster';
import { catchUp, pushStream, skopeoBaseline } from './bench-phases.mjs';
import { planImages, writeImageSet } from './image-set.mjs';
import { lagPlotSvg } from './lag-plot.mjs';
import { metricSum } from './metric-scrape.mjs';
import { summarizeRun, summaryLines, TARGETS } from './run-summary.mjs';
import { startStatusSampler, waitDrained } from './status-sampler.mjs';
import { createTagWatch } from './tag-watch.mjs';
import { runBenchMain, UsageError, stopOnSignals } from '../shared/bench-main.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const RULE = 'bench';
const log = (msg) => console.error(`[bench:replication] ${msg}`);

/** A bad flag: reported as one line, without a stack. */

function positiveInt(name, raw, max) {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new UsageError(`--${name} must be an integer from 1 to ${max} (got ${raw})`);
  return n;
}

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      images: { type: 'string', default: '50' },
      'size-mib': { type: 'string', default: '10' },
      'share-group': { type: 'string', default: '5' },
      'poll-ms': { type: 'string', default: '100' },
      'out-dir': { type: 'string', default: join(ROOT, 'bench', 'results') },
      keep: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
    },
  });
  return {
    images: positiveInt('images', values.images, 1000),
    sizeMiB: positiveInt('size-mib', values['size-mib'], 1024),
    shareGroup: positiveInt('share-group', values['share-group'], 1000),
    pollMs: positiveInt('poll-ms', values['poll-ms'], 5000),
    outDir: values['out-dir'],
    keep: values.keep,
    check: values.check,
  };
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  const work = await mkdtemp(join(tmpdir(), 'kraken-bench-replication-'));
  const controller = new AbortController();
  const stoppable = [];
  let failed = false;
  const cleanup = async () => {
    await Promise.allSettled(stoppable.map((s) => s.stop()));
    if (!opts.keep && !failed) await rm(work, { recursive: true, force: true });
    else log(`kept ${work} (layouts, cluster data, configs, logs)`);
  };
  const removeSignalHandlers = stopOnSignals({
    log,
    interrupted: () => {
      controller.abort();
      failed = true;
    },
    cleanup,
  });

  try {
    const startedAt = new Date();
    const sizeBytes = opts.sizeMiB * 1024 * 1024;
    log(
      `writing ${opts.images} images × ${opts.sizeMiB} MiB (3 layers, bases shared by ${opts.shareGroup}) to ${work}`,
    );
    const plan = planImages({ images: opts.images, sizeBytes, shareGroup: opts.shareGroup });
    const set = await writeImageSet({ dir: join(work, 'images'), plan });

    log('starting clusters a and b (rule a → b over bench/.*)');
    const clusters = await startClusters({
      dir: join(work, 'clusters'),
      ports: 'free',
      logLevel: 'warn',
      clusters: [
        {
          id: 'a',
          agents: 0,
          rules: [{ name: RULE, repositories: 'bench/.*', destination: { cluster: 'b' } }],
          // Backfill only at start and when a rule is created: no periodic sweep of the first
          // rule runs into the catch-up phase's.
          overrides: { buildIndex: { replication: { backfillIntervalSeconds: 0 } } },
        },
        // b's rule matches nothing: it gives b's build-index its cluster id and queue file.
        {
          id: 'b',
          agents: 1,
          rules: [{ name: 'to-a', repositories: 'none/.*', destination: { cluster: 'a' } }],
        },
      ],
    });
    stoppable.push(clusters);
    const a = clusters.cluster('a').endpoints;
    const b = clusters.cluster('b').endpoints;
    const aProxy = a.proxy[0];
    const aBuildIndex = a['build-index'][0];
    const storedOnB = () =>
      Promise.all(b.origin.map((o) => metricSum(o, 'kraken_origin_blob_bytes_stored_total')));
    const storedBefore = (await storedOnB()).reduce((s, n) => s + n, 0);

    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const sampler = startStatusSampler({ buildIndex: aBuildIndex, rule: RULE, intervalMs: 250, now });
    const tagWatch = createTagWatch({
      registry: b.agent[0],
      pollMs: opts.pollMs,
      timeoutMs: 300_000,
      now,
      signal: controller.signal,
    });
    log(`pushing to a's proxy ${aProxy}; watching b's agent ${b.agent[0]}`);
    const perImage = await pushStream({ images: set.images, aProxy, watch: tagWatch.watch, now });
    const final = await waitDrained({ buildIndex: aBuildIndex, rule: RULE, timeoutMs: 60_000 });
    await sampler.stop();
    const storedAfter = (await storedOnB()).reduce((s, n) => s + n, 0);
    // b's part is done; it stays out of the baseline's way.
    await clusters.cluster('b').stop();

    log('baseline: starting a fresh cluster c; skopeo copy of every image a → c');
    // No rules; the block puts each fresh cluster's replication queue file under its own directory.
    const fresh = (id, agents) =>
      startCluster({
        dir: join(work, id),
        id,
        agents,
        ports: 'free',
        logLevel: 'warn',
        replication: { clusterId: id },
      });
    const c = await fresh('c', 0);
    stoppable.push(c);
    const baselineMs = await skopeoBaseline({
      images: set.images,
      aProxy,
      targetProxy: c.endpoints.proxy[0],
    });
    await c.stop();

    log('catch-up: starting a fresh cluster d; a rule on a towards it, timed until d serves every tag');
    const d = await fresh('d', 1);
    stoppable.push(d);
    const catchUpMs = await catchUp({
      images: set.images,
      aBuildIndex,
      rule: {
        name: 'bench-catch-up',
        repositories: 'bench/.*',
        destination: { discover: d.endpoints['build-index'][0] },
      },
      watch: createTagWatch({
        registry: d.endpoints.agent[0],
        pollMs: opts.pollMs,
        timeoutMs: 300_000,
        now,
        signal: controller.signal,
      }).watch,
      now,
    });

    const summary = summarizeRun({
      perImage,
      uniqueBytes: set.uniqueBytes,
      bytesCopied: final.bytesCopied,
      destinationStoredBytes: storedAfter - storedBefore,
      baselineMs,
      catchUpMs,
    });
    const report = {
      benchmark: 'replication',
      startedAt: startedAt.toISOString(),
      machine: {
        cpus: availableParallelism(),
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
      },
      params: {
        images: opts.images,
        sizeBytes,
        layersPerImage: 3,
        shareGroup: opts.shareGroup,
        pollMs: opts.pollMs,
        uniqueBytes: set.uniqueBytes,
        uniqueBlobs: set.uniqueBlobs,
        pushedBytes: set.images.reduce((sum, i) => sum + i.blobs.reduce((s, blob) => s + blob.size, 0), 0),
      },
      ...summary,
      finalStatus: final,
      perImage: perImage.map((i) => ({
        repo: i.repo,
        tag: i.tag,
        digest: i.digest,
        pushStartedSeconds: Math.round(i.pushStartedMs) / 1000,
        pushedSeconds: Math.round(i.pushedMs) / 1000,
        servedSeconds: Math.round(i.servedMs) / 1000,
        lagSeconds: Math.round(i.servedMs - i.pushedMs) / 1000,
      })),
      statusSamples: sampler.samples,
    };

    await mkdir(opts.outDir, { recursive: true });
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    const jsonPath = join(opts.outDir, `replication-${stamp}.json`);
    await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    const svgPath = join(opts.outDir, `replication-${stamp}.svg`);
    const svg = lagPlotSvg({
      points: report.perImage.map((i) => ({ t: i.pushedSeconds, lag: i.lagSeconds })),
      samples: sampler.samples,
      lastPushSeconds: Math.max(...report.perImage.map((i) => i.pushedSeconds)),
      targetSeconds: TARGETS.lagP99Seconds,
      title: `replication lag a → b (${opts.images} × ${opts.sizeMiB} MiB, ${report.machine.cpus} CPUs)`,
    });
    await writeFile(svgPath, svg);
    console.log(JSON.stringify({ ...report, perImage: undefined, statusSamples: undefined }, null, 2));
    for (const line of summaryLines(summary, { images: opts.images, uniqueBytes: set.uniqueBytes }))
      log(line);
    log(`wrote ${relative(process.cwd(), jsonPath)} and ${relative(process.cwd(), svgPath)}`);
    if (opts.check && summary.targets.some((t) => !t.met)) process.exitCode = 1;
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    removeSignalHandlers();
    await cleanup();
  }
}

runBenchMain('bench:replication', main);
