// Registry benchmark: the same content and workloads against Debian's docker-registry
// (distribution 2.8) and against our stack through the proxy; prints and saves the results with
// proxy/docker-registry ratios and an SVG chart of them. Run by `npm run bench:registry`.
//
//   node bench/registry/main.mjs [--only docker-registry|proxy] [--blobs 4] [--blob-mib 64]
//     [--put-concurrency 1] [--get-concurrency 4] [--get-rounds 2] [--manifest-concurrency 16]
//     [--manifest-seconds 5] [--warmup-seconds 1] [--out-dir bench/results] [--keep] [--check]
//
// --check exits 1 when a target ratio is missed; --keep leaves the temp dir (data, configs, logs).
/* global AbortController */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { stopAll } from './child-processes.mjs';
import { createFixtures } from './blob-fixtures.mjs';
import { startDockerRegistry } from './docker-registry-target.mjs';
import { startKrakenStack } from './kraken-stack.mjs';
import {
  measureBlobGet,
  measureBlobPut,
  measureManifestGet,
  pushManifest,
  verifyBlobs,
} from './workloads.mjs';
import { compare, ratioChartSvg } from './report.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const TARGETS = { 'docker-registry': startDockerRegistry, proxy: startKrakenStack };
const REPO = 'bench/registry';
const TAG = 'v1';

function positiveInt(name, raw, max) {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new Error(`--${name} must be an integer from 1 to ${max} (got ${raw})`);
  return n;
}

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      blobs: { type: 'string', default: '4' },
      'blob-mib': { type: 'string', default: '64' },
      'put-concurrency': { type: 'string', default: '1' },
      'get-concurrency': { type: 'string', default: '4' },
      'get-rounds': { type: 'string', default: '2' },
      'manifest-concurrency': { type: 'string', default: '16' },
      'manifest-seconds': { type: 'string', default: '5' },
      'warmup-seconds': { type: 'string', default: '1' },
      'out-dir': { type: 'string', default: join(ROOT, 'bench', 'results') },
      keep: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
    },
  });
  if (values.only !== undefined && !(values.only in TARGETS)) {
    throw new Error(`--only must be one of ${Object.keys(TARGETS).join(', ')} (got ${values.only})`);
  }
  const warmup = Number(values['warmup-seconds']);
  if (!Number.isFinite(warmup) || warmup < 0 || warmup > 60)
    throw new Error('--warmup-seconds must be from 0 to 60');
  return {
    targets: values.only ? [values.only] : Object.keys(TARGETS),
    blobs: positiveInt('blobs', values.blobs, 64),
    blobBytes: positiveInt('blob-mib', values['blob-mib'], 4096) * 1024 * 1024,
    putConcurrency: positiveInt('put-concurrency', values['put-concurrency'], 64),
    getConcurrency: positiveInt('get-concurrency', values['get-concurrency'], 64),
    getRounds: positiveInt('get-rounds', values['get-rounds'], 100),
    manifestConcurrency: positiveInt('manifest-concurrency', values['manifest-concurrency'], 1024),
    manifestMs: positiveInt('manifest-seconds', values['manifest-seconds'], 600) * 1000,
    warmupMs: warmup * 1000,
    outDir: values['out-dir'],
    keep: values.keep,
    check: values.check,
  };
}

async function benchTarget({ name, dir, fixtures, opts, signal }) {
  console.error(`[bench] ${name}: starting`);
  const target = await TARGETS[name]({ dir });
  try {
    const base = target.url;
    console.error(`[bench] ${name}: ${base}; blob PUT`);
    const blobPut = await measureBlobPut({
      base,
      repo: REPO,
      blobs: fixtures.blobs,
      concurrency: opts.putConcurrency,
      signal,
    });
    await pushManifest({ base, repo: REPO, tag: TAG, config: fixtures.config, manifest: fixtures.manifest });
    await verifyBlobs({ base, repo: REPO, blobs: fixtures.blobs, signal });
    console.error(`[bench] ${name}: blob GET`);
    const blobGet = await measureBlobGet({
      base,
      repo: REPO,
      blobs: fixtures.blobs,
      rounds: opts.getRounds,
      concurrency: opts.getConcurrency,
      signal,
    });
    const manifestRun = (reference) =>
      measureManifestGet({
        base,
        repo: REPO,
        reference,
        accept: fixtures.manifest.mediaType,
        concurrency: opts.manifestConcurrency,
        durationMs: opts.manifestMs,
        warmupMs: opts.warmupMs,
        signal,
      });
    console.error(`[bench] ${name}: manifest GET by tag`);
    const manifestGetByTag = await manifestRun(TAG);
    console.error(`[bench] ${name}: manifest GET by digest`);
    const manifestGetByDigest = await manifestRun(fixtures.manifest.digest);
    const result = { url: base, blobPut, blobGet, manifestGetByTag, manifestGetByDigest };
    if (target.agentUrl !== undefined) {
      // The pull path: an agent serving from its disk cache (filled once, untimed).
      console.error(`[bench] ${name}: agent blob GET (pull path)`);
      await verifyBlobs({ base: target.agentUrl, repo: REPO, blobs: fixtures.blobs, signal });
      result.agentBlobGet = await measureBlobGet({
        base: target.agentUrl,
        repo: REPO,
        blobs: fixtures.blobs,
        rounds: opts.getRounds,
        concurrency: opts.getConcurrency,
        signal,
      });
    }
    return result;
  } finally {
    await Promise.all(target.processes.map((p) => p.stop()));
  }
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  const controller = new AbortController();
  const work = await mkdtemp(join(tmpdir(), 'kraken-bench-registry-'));
  let failed = false;
  const cleanup = async () => {
    await stopAll();
    if (!opts.keep && !failed) await rm(work, { recursive: true, force: true });
    else console.error(`[bench] kept ${work} (configs, data, logs)`);
  };
  const onSignal = (signal) => {
    console.error(`[bench] ${signal}: stopping`);
    controller.abort();
    cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const startedAt = new Date();
    console.error(
      `[bench] writing ${opts.blobs} × ${opts.blobBytes / 1024 / 1024} MiB random blobs to ${work}`,
    );
    await mkdir(join(work, 'fixtures'));
    const fixtures = await createFixtures({
      dir: join(work, 'fixtures'),
      count: opts.blobs,
      size: opts.blobBytes,
    });

    const results = {};
    for (const name of opts.targets) {
      const dir = join(work, name);
      await mkdir(dir);
      results[name] = await benchTarget({ name, dir, fixtures, opts, signal: controller.signal });
    }
    const { ratios, targets } = compare(results);
    const report = {
      benchmark: 'registry',
      startedAt: startedAt.toISOString(),
      machine: {
        cpus: availableParallelism(),
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
      },
      params: {
        blobs: opts.blobs,
        blobBytes: opts.blobBytes,
        putConcurrency: opts.putConcurrency,
        getConcurrency: opts.getConcurrency,
        getRounds: opts.getRounds,
        manifestConcurrency: opts.manifestConcurrency,
        manifestSeconds: opts.manifestMs / 1000,
        warmupSeconds: opts.warmupMs / 1000,
      },
      results,
      ratios,
      targets,
    };

    await mkdir(opts.outDir, { recursive: true });
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    const jsonPath = join(opts.outDir, `registry-${stamp}.json`);
    await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify(report, null, 2));
    console.error(`[bench] wrote ${relative(process.cwd(), jsonPath)}`);
    if (ratios) {
      const svgPath = join(opts.outDir, `registry-${stamp}.svg`);
      const title = `proxy / docker-registry (${opts.blobs} × ${opts.blobBytes / 1024 / 1024} MiB, ${report.machine.cpus} CPUs)`;
      await writeFile(svgPath, ratioChartSvg({ ratios, title }));
      console.error(`[bench] wrote ${relative(process.cwd(), svgPath)}`);
      for (const t of targets) {
        console.error(
          `[bench] target ${t.metric} ≥ ${t.min}×: ${t.ratio ?? 'n/a'}× ${t.met ? 'met' : 'NOT met'}`,
        );
      }
      if (opts.check && targets.some((t) => !t.met)) process.exitCode = 1;
    } else {
      console.error('[bench] one target only: no ratios or chart');
    }
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}

main().catch((err) => {
  console.error(`[bench] failed: ${err.stack ?? err}`);
  process.exit(1);
});
