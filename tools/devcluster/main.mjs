// `npm run devcluster`: the whole product on this machine with embedded defaults
// (filesystem storage under .devcluster/, default ports), until Ctrl-C.
// Flags: --origins N (origins in the ring, default 1), --replicas R (owners per blob),
// --trackers N (trackers in the ring, default 1), --build-indexes N (build-index nodes, default 1),
// --storage filesystem|s3 (s3: a MinIO from .cache/bin/minio holds the origins' and the
// build-index's objects; build it with `bash tools/install/go-tools.sh minio`).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot, startCluster } from './cluster.mjs';

const { values: flags } = parseArgs({
  options: {
    origins: { type: 'string', default: '1' },
    replicas: { type: 'string' },
    trackers: { type: 'string', default: '1' },
    'build-indexes': { type: 'string', default: '1' },
    storage: { type: 'string', default: 'filesystem' },
  },
});
const count = (name, value) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a whole number >= 1, got "${value}"`);
    process.exit(2);
  }
  return n;
};
const origins = count('origins', flags.origins);
const replicas = flags.replicas === undefined ? undefined : count('replicas', flags.replicas);
const trackers = count('trackers', flags.trackers);
const buildIndexes = count('build-indexes', flags['build-indexes']);
if (flags.storage !== 'filesystem' && flags.storage !== 's3') {
  console.error(`--storage must be filesystem or s3, got "${flags.storage}"`);
  process.exit(2);
}

const dir = join(repoRoot, '.devcluster');
let cluster;
try {
  cluster = await startCluster({
    dir,
    ports: 'default',
    agents: 2,
    origins,
    trackers,
    buildIndexes,
    storage: flags.storage,
    ...(replicas ? { replicas } : {}),
  });
} catch (err) {
  console.error(`devcluster failed to start: ${err.message}`);
  process.exit(1);
}
const { endpoints } = cluster;
const hostOf = (u) => new URL(u).host;
console.log(`
Kraken devcluster is running. State and logs: ${dir}
Endpoints (also in ${join(dir, 'endpoints.json')}):
${Object.entries(endpoints)
  .map(([name, urls]) => `  ${name.padEnd(12)} ${urls.join('  ')}`)
  .join('\n')}

Push an image through the proxy, then pull it through an agent:
  skopeo copy --dest-tls-verify=false docker://docker.io/library/busybox:latest docker://${hostOf(endpoints.proxy[0])}/library/busybox:latest
  skopeo copy --src-tls-verify=false docker://${hostOf(endpoints.agent[0])}/library/busybox:latest oci:/tmp/busybox:latest

Press Ctrl-C to stop.`);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping devcluster...');
  await cluster.stop();
  console.log('stopped.');
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
for (const c of cluster.components) {
  c.exited.then(({ code, signal }) => {
    if (!stopping)
      console.error(`${c.name} exited unexpectedly (code ${code}, signal ${signal}); see ${c.logFile}`);
  });
}
