// `npm run devcluster`: the whole product on this machine with embedded defaults
// (filesystem storage under .devcluster/, default ports), until Ctrl-C. With --clusters 2,
// two such clusters (a, b) replicating to each other. `--help` lists the flags.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLUSTER_PORT_STRIDE, DEFAULT_PORTS, repoRoot, startCluster, startClusters } from './cluster.mjs';

const USAGE = `Usage: npm run devcluster -- [options]
       node tools/devcluster/main.mjs [options]   (apps built already)

Runs origin, tracker, build-index, proxy and two agents on this machine, state under
.devcluster/, until Ctrl-C.

Options:
  --clusters N          1 or 2 (default 1). 2: cluster a on the default ports, cluster b on
                        every port plus ${CLUSTER_PORT_STRIDE}, state under .devcluster/a/ and .devcluster/b/;
                        a replicates every repository to b, b replicates shared/.* to a
  --no-replication      with --clusters 2: no replication rules (two independent clusters)
  --origins N           origins in the ring (default 1)
  --replicas R          owners of each blob on the origin ring (default min(origins, 2))
  --trackers N          trackers in the ring (default 1)
  --build-indexes N     build-index nodes (default 1)
  --storage KIND        filesystem (default) or s3: a MinIO from .cache/bin/minio holds the
                        objects (build it with \`bash tools/install/go-tools.sh minio\`)
  --upstream NAME=URL   mirror the registry NAME (as image references name it, e.g. docker.io)
                        from URL: origins pull through it, agents answer containerd's ?ns=NAME.
                        Repeatable. Credentials: NAME=URL,credentials=/path/to/creds.json
  --secure              TLS on every link (a throwaway CA and certificates made with openssl
                        under .devcluster/secure/), mutual TLS on P2P, pushes authenticated
                        with a generated user; endpoints.json gets https URLs, auth and ca
  -h, --help            this help
Counts and storage apply to every cluster; further instances take the next free ports
after ${DEFAULT_PORTS.buildIndex} (after ${DEFAULT_PORTS.buildIndex + CLUSTER_PORT_STRIDE} in cluster b).

With --clusters 2, push to a and pull from b:
  skopeo copy --dest-tls-verify=false docker://docker.io/library/busybox:latest docker://127.0.0.1:${DEFAULT_PORTS.proxy}/library/busybox:latest
  skopeo copy --src-tls-verify=false docker://127.0.0.1:${DEFAULT_PORTS.agents[0] + CLUSTER_PORT_STRIDE}/library/busybox:latest oci:/tmp/busybox:latest
and follow replication with GET http://127.0.0.1:${DEFAULT_PORTS.buildIndex}/v1/replication/status.`;

function usageError(message) {
  console.error(`devcluster: ${message} (see --help)`);
  process.exit(2);
}

let flags;
try {
  ({ values: flags } = parseArgs({
    options: {
      help: { type: 'boolean', short: 'h' },
      clusters: { type: 'string', default: '1' },
      'no-replication': { type: 'boolean', default: false },
      origins: { type: 'string', default: '1' },
      replicas: { type: 'string' },
      trackers: { type: 'string', default: '1' },
      'build-indexes': { type: 'string', default: '1' },
      storage: { type: 'string', default: 'filesystem' },
      upstream: { type: 'string', multiple: true, default: [] },
      secure: { type: 'boolean', default: false },
    },
  }));
} catch (err) {
  // parseArgs (strict) throws on unknown flags, missing values and positionals.
  usageError(err.message);
}
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
const count = (name, value) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) usageError(`--${name} must be a whole number >= 1, got "${value}"`);
  return n;
};
const clusterCount = count('clusters', flags.clusters);
if (clusterCount > 2) usageError(`--clusters must be 1 or 2, got "${flags.clusters}"`);
if (flags.secure && clusterCount > 1) usageError('--secure runs one cluster; drop --clusters');
const origins = count('origins', flags.origins);
const replicas = flags.replicas === undefined ? undefined : count('replicas', flags.replicas);
const trackers = count('trackers', flags.trackers);
const buildIndexes = count('build-indexes', flags['build-indexes']);
if (flags.storage !== 'filesystem' && flags.storage !== 's3') {
  usageError(`--storage must be filesystem or s3, got "${flags.storage}"`);
}

/** `--upstream docker.io=http://127.0.0.1:5000[,credentials=file]` into the origins' upstream config. */
const upstreams = flags.upstream.map((value) => {
  const match = /^([^=\s]+)=([^,\s]+)(?:,credentials=(\S+))?$/.exec(value);
  if (match === null) usageError(`--upstream must be NAME=URL[,credentials=FILE], got "${value}"`);
  const [, name, url, credentialsFile] = match;
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/.test(name))
    usageError(`--upstream: "${name}" is not a registry host name such as docker.io`);
  if (!/^https?:\/\/[^/@]+/.test(url)) usageError(`--upstream: "${url}" is not an http(s) URL`);
  return { name, url, ...(credentialsFile === undefined ? {} : { credentialsFile }) };
});
if (new Set(upstreams.map((u) => u.name)).size !== upstreams.length)
  usageError('--upstream names must be unique');

const dir = join(repoRoot, '.devcluster');
const shared = {
  ports: 'default',
  agents: 2,
  origins,
  trackers,
  buildIndexes,
  storage: flags.storage,
  ...(replicas ? { replicas } : {}),
  ...(upstreams.length > 0 ? { upstreams } : {}),
  ...(flags.secure ? { secure: true } : {}),
};
/** Rules of --clusters 2, in the build-index's config contract. */
const RULES = {
  a: [{ name: 'to-b', repositories: '.*', destination: { cluster: 'b' }, deletes: false, enabled: true }],
  b: [
    { name: 'to-a', repositories: 'shared/.*', destination: { cluster: 'a' }, deletes: false, enabled: true },
  ],
};
const replicating = clusterCount === 2 && !flags['no-replication'];

/** One cluster as before clusters had ids (same layout), or a and b under .devcluster/<id>/. */
async function start() {
  if (clusterCount === 1) {
    const cluster = await startCluster({ dir, ...shared });
    return { list: [cluster], stop: () => cluster.stop() };
  }
  const both = await startClusters({
    dir,
    ...shared,
    clusters: ['a', 'b'].map((id) => ({ id, ...(replicating ? { rules: RULES[id] } : {}) })),
  });
  return { list: Object.values(both.clusters), stop: () => both.stop() };
}

let running;
try {
  running = await start();
} catch (err) {
  console.error(`devcluster failed to start: ${err.message}`);
  process.exit(1);
}

const hostOf = (u) => new URL(u).host;
const endpointLines = (endpoints) =>
  Object.entries(endpoints)
    .filter(([, urls]) => Array.isArray(urls))
    .map(([name, urls]) => `  ${name.padEnd(12)} ${urls.join('  ')}`)
    .join('\n');
const [first, second] = running.list;
/** With --upstream: the hosts.toml that sends containerd to the first agent, and a pull. */
function mirrorHelp(cluster) {
  if (upstreams.length === 0) return '';
  const agent = cluster.endpoints.agent[0];
  const [{ name }] = upstreams;
  return `
Mirrored upstreams: ${upstreams.map((u) => `${u.name} (${u.url})`).join(', ')}
Point containerd at the agent (config_path = "/etc/containerd/certs.d" in its CRI registry config):
  node apps/agent/dist/main.js setup-containerd --config-path /etc/containerd/certs.d --mirror ${agent} --registries ${upstreams.map((u) => `${u.name}=${u.url}`).join(',')}
which writes /etc/containerd/certs.d/${name}/hosts.toml like:
  server = "${upstreams[0].url}"
  [host."${agent}"]
    capabilities = ["pull", "resolve"]
    dial_timeout = "500ms"
then pull as kubelet does:
  crictl pull ${name}/library/busybox:latest
Mirror status: GET ${agent}/v1/mirror/status
`;
}
const image = 'library/busybox:latest';
if (second === undefined) {
  console.log(`
Kraken devcluster is running. State and logs: ${dir}
Endpoints (also in ${join(dir, 'endpoints.json')}):
${endpointLines(first.endpoints)}

${
  first.secure === undefined
    ? `Push an image through the proxy, then pull it through an agent:
  skopeo copy --dest-tls-verify=false docker://docker.io/${image} docker://${hostOf(first.endpoints.proxy[0])}/${image}`
    : `Secure mode: every link is TLS with the CA ${first.secure.caFile}; pushes need
  user ${first.secure.user.username}, password ${first.secure.user.password}
Push an image through the proxy, then pull it through an agent (plain HTTP on loopback):
  skopeo copy --dest-creds ${first.secure.user.username}:${first.secure.user.password} --dest-cert-dir ${first.secure.certDir} docker://docker.io/${image} docker://${hostOf(first.endpoints.proxy[0])}/${image}`
}
  skopeo copy --src-tls-verify=false docker://${hostOf(first.endpoints.agent[0])}/${image} oci:/tmp/busybox:latest

${mirrorHelp(first)}
Press Ctrl-C to stop.`);
} else {
  const status = (c) => `${c.endpoints['build-index'][0]}/v1/replication/status`;
  console.log(`
Kraken devclusters a and b are running. State and logs: ${first.dir}, ${second.dir}
Endpoints (also in ${join(dir, 'endpoints.json')}):
cluster a
${endpointLines(first.endpoints)}
cluster b
${endpointLines(second.endpoints)}
${
  replicating
    ? `
Replication: a -> b every repository (rule to-b), b -> a shared/.* (rule to-a).
Push an image to cluster a, then pull it from cluster b once replicated:
  skopeo copy --dest-tls-verify=false docker://docker.io/${image} docker://${hostOf(first.endpoints.proxy[0])}/${image}
  skopeo copy --src-tls-verify=false docker://${hostOf(second.endpoints.agent[0])}/${image} oci:/tmp/busybox:latest
Replication progress: GET ${status(first)} (cluster b: ${status(second)})`
    : `
Replication is off (--no-replication): the clusters are independent.`
}

Press Ctrl-C to stop.`);
}

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping devcluster...');
  await running.stop();
  console.log('stopped.');
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
for (const cluster of running.list) {
  for (const c of cluster.components) {
    c.exited.then(({ code, signal }) => {
      if (!stopping)
        console.error(`${c.name} exited unexpectedly (code ${code}, signal ${signal}); see ${c.logFile}`);
    });
  }
}
