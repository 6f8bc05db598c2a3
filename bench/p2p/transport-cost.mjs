// P2P transport cost: what TLS, and the cluster token challenge, cost the swarm's data path. A
// seeder and a downloader, each a PeerNode of @kraken/p2p-core in its own process
// (transport-peer.mjs), move one S MiB random blob over loopback in each membership mode (plain,
// token, tls), `--rounds` times with the modes interleaved, so that machine noise falls on every
// mode alike. Per mode: throughput (MB/s of blob over the download's wall time, from the first
// announce to the verified blob) and CPU-seconds per GiB (user + system of both processes over the
// same span), each the median over rounds and a ratio to plain from the same run. Both processes
// run on this machine's cores: compare ratios, not absolute numbers across machines.
//
//   npm run bench:p2p-transport -- [--size-mib 256] [--rounds 5] [--modes plain,token,tls]
//     [--dir /dev/shm] [--out-dir bench/results] [--keep]
//
// --dir holds the blob and both peers' directories; /dev/shm by default when there is one, so that
// the downloader's durability syncs (the same in every mode) do not hide the transport's cost.
import { createSecureMaterial } from '../../tools/devcluster/secure.mjs';
import { fork } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { generateMetainfo } from '@kraken/p2p-core';
import { createFixtures } from '../registry/blob-fixtures.mjs';
import { nextMessage } from '../shared/child-messages.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const PEER = new URL('./transport-peer.mjs', import.meta.url).pathname;
const MODES = ['plain', 'token', 'tls'];
const GIB = 1024 ** 3;
const log = (msg) => console.error(`[bench:p2p-transport] ${msg}`);

function options() {
  const { values } = parseArgs({
    options: {
      'size-mib': { type: 'string', default: '256' },
      rounds: { type: 'string', default: '5' },
      modes: { type: 'string', default: MODES.join(',') },
      dir: { type: 'string', default: existsSync('/dev/shm') ? '/dev/shm' : tmpdir() },
      'out-dir': { type: 'string', default: join(ROOT, 'bench', 'results') },
      keep: { type: 'boolean', default: false },
    },
  });
  const sizeMiB = Number(values['size-mib']);
  const rounds = Number(values.rounds);
  const modes = values.modes.split(',').filter((m) => m !== '');
  if (!Number.isInteger(sizeMiB) || sizeMiB < 1 || sizeMiB > 16_384)
    throw new Error('--size-mib: 1 to 16384');
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) throw new Error('--rounds: 1 to 50');
  if (modes.length === 0 || modes.some((m) => !MODES.includes(m)))
    throw new Error(`--modes: a comma-separated subset of ${MODES.join(',')}`);
  if (!modes.includes('plain')) modes.unshift('plain'); // the reference of every ratio
  return { sizeMiB, rounds, modes, dir: values.dir, outDir: values['out-dir'], keep: values.keep };
}

async function runOnce({ work, mode, blob, certs, tokenFile, round }) {
  const peers = {};
  try {
    for (const role of ['seeder', 'downloader']) {
      const child = fork(PEER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      peers[role] = child;
      const dir = join(work, `${mode}-${round}-${role}`);
      await mkdir(dir, { recursive: true });
      child.send({ type: 'start', role, mode, dir, blob, tls: certs[role], tokenFile });
    }
    const [seeder] = await Promise.all([
      nextMessage(peers.seeder, 'ready', 'a transport peer'),
      nextMessage(peers.downloader, 'ready', 'a transport peer'),
    ]);
    const done = nextMessage(peers.downloader, 'done', 'a transport peer');
    peers.seeder.send({ type: 'go' });
    peers.downloader.send({ type: 'go', seeder: { peerId: seeder.peerId, port: seeder.port } });
    const { seconds, cpuSeconds: downloaderCpu } = await done;
    peers.seeder.send({ type: 'report' });
    const { cpuSeconds: seederCpu } = await nextMessage(peers.seeder, 'cpu', 'a transport peer');
    const cpuSeconds = seederCpu + downloaderCpu;
    return {
      seconds: round3(seconds),
      MBps: round3(blob.metainfo.size / 1e6 / seconds),
      cpuSeconds: round3(cpuSeconds),
      cpuSecondsPerGiB: round3(cpuSeconds / (blob.metainfo.size / GIB)),
      seederCpuSeconds: round3(seederCpu),
      downloaderCpuSeconds: round3(downloaderCpu),
      // Per role too: an origin only seeds, and its cores and uplink are the swarm's scarcest.
      seederCpuSecondsPerGiB: round3(seederCpu / (blob.metainfo.size / GIB)),
      downloaderCpuSecondsPerGiB: round3(downloaderCpu / (blob.metainfo.size / GIB)),
    };
  } finally {
    for (const child of Object.values(peers)) {
      if (child.exitCode === null) {
        child.disconnect();
        await new Promise((resolve) => child.once('exit', resolve));
      }
    }
  }
}

const round3 = (x) => Math.round(x * 1000) / 1000;
const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function main() {
  const opts = options();
  const work = await mkdtemp(join(opts.dir, 'kraken-bench-transport-'));
  try {
    const startedAt = new Date();
    log(`writing a ${opts.sizeMiB} MiB random blob to ${work}`);
    const {
      blobs: [file],
    } = await createFixtures({ dir: work, count: 1, size: opts.sizeMiB * 1024 * 1024 });
    const metainfo = await generateMetainfo(createReadStream(file.path), {
      digest: file.digest,
      size: file.size,
    });
    // The CA, the peers' certificates and the cluster token, as the devcluster's --secure makes them.
    const material = await createSecureMaterial(work, ['seeder', 'downloader']);
    const certs = Object.fromEntries(
      Object.entries(material.certificates).map(([role, files]) => [
        role,
        { ...files, caFile: material.caFile },
      ]),
    );
    const tokenFile = material.clusterTokenFile;
    const blob = { path: file.path, metainfo };

    const loadBefore = loadavg()[0];
    const runs = Object.fromEntries(opts.modes.map((mode) => [mode, []]));
    for (let round = 1; round <= opts.rounds; round++) {
      for (const mode of opts.modes) {
        const result = await runOnce({ work, mode, blob, certs, tokenFile, round });
        runs[mode].push(result);
        log(
          `round ${round} ${mode}: ${result.MBps} MB/s, ${result.cpuSecondsPerGiB} CPU-s/GiB ` +
            `(seeder ${result.seederCpuSeconds} s, downloader ${result.downloaderCpuSeconds} s)`,
        );
      }
    }
    const summary = {};
    for (const mode of opts.modes) {
      const medianOf = (key) => round3(median(runs[mode].map((r) => r[key])));
      summary[mode] = {
        MBps: medianOf('MBps'),
        cpuSecondsPerGiB: medianOf('cpuSecondsPerGiB'),
        seederCpuSecondsPerGiB: medianOf('seederCpuSecondsPerGiB'),
        downloaderCpuSecondsPerGiB: medianOf('downloaderCpuSecondsPerGiB'),
      };
    }
    for (const mode of opts.modes) {
      summary[mode].throughputVsPlain = round3(summary[mode].MBps / summary.plain.MBps);
      const vsPlain = (key) => round3(summary[mode][key] / summary.plain[key]);
      summary[mode].cpuPerGiBVsPlain = vsPlain('cpuSecondsPerGiB');
      summary[mode].seederCpuPerGiBVsPlain = vsPlain('seederCpuSecondsPerGiB');
      summary[mode].downloaderCpuPerGiBVsPlain = vsPlain('downloaderCpuSecondsPerGiB');
    }
    const report = {
      benchmark: 'p2p-transport',
      startedAt: startedAt.toISOString(),
      machine: {
        cpus: availableParallelism(),
        cpuModel: cpus()[0]?.model ?? 'unknown',
        node: process.version,
        openssl: process.versions.openssl,
        platform: `${process.platform}-${process.arch}`,
        // Other work on the machine shows here; a loaded machine widens the spread between rounds.
        loadAverage1m: { before: round3(loadBefore), after: round3(loadavg()[0]) },
      },
      params: {
        sizeMiB: opts.sizeMiB,
        sizeBytes: metainfo.size,
        pieceLength: metainfo.pieceLength,
        pieces: metainfo.pieceHashes.length,
        rounds: opts.rounds,
        modes: opts.modes,
        dir: opts.dir,
      },
      summary,
      runs,
    };
    await mkdir(opts.outDir, { recursive: true });
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    const jsonPath = join(opts.outDir, `p2p-transport-${stamp}.json`);
    await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify(report, null, 2));
    log(`wrote ${relative(process.cwd(), jsonPath)}`);
    for (const mode of opts.modes) {
      const s = summary[mode];
      log(
        `${mode}: ${s.MBps} MB/s (${s.throughputVsPlain}× plain), ` +
          `${s.cpuSecondsPerGiB} CPU-s/GiB (${s.cpuPerGiBVsPlain}× plain; seeder ` +
          `${s.seederCpuPerGiBVsPlain}×, downloader ${s.downloaderCpuPerGiBVsPlain}×)`,
      );
    }
  } finally {
    if (opts.keep) log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`[bench:p2p-transport] failed: ${err.stack ?? err}`);
  process.exit(1);
});
