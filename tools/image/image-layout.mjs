// The OCI image layout, assembled by umoci from the staged layer directories: one
// `umoci insert` per layer, then the config, then a garbage collection of the intermediate
// manifests. Every input that would otherwise carry the time or the builder's identity is
// fixed here: history and config dates are the build's time, owners come from an explicit
// id mapping (so a build as root and one as a user pack the same tar headers).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * @param {object} options
 * @param {string} options.layout the directory to (re)create
 * @param {string} options.tag the reference name, e.g. kraken:0.1.0
 * @param {{ source: string, target: string, owner: { uid: number, gid: number }, description: string }[]} options.layers
 * @param {{ created: string, labels: Record<string, string> }} options.meta
 * @param {{ user: string, env: string[], entrypoint: string[], cmd: string[], workingDir: string }} options.config
 */
export function assembleImage({ layout, tag, layers, meta, config }) {
  if (existsSync(layout)) {
    if (readdirSync(layout).length > 0 && !existsSync(join(layout, 'oci-layout'))) {
      throw new Error(`${layout} exists and is not an OCI image layout; not replacing it`);
    }
    rmSync(layout, { recursive: true, force: true });
  }
  const image = `${layout}:${tag}`;
  umoci(['init', '--layout', layout]);
  umoci(['new', '--image', image]);
  for (const layer of layers) {
    umoci([
      'insert',
      '--image',
      image,
      ...idMapping(layer.owner),
      '--history.created',
      meta.created,
      '--history.created_by',
      layer.description,
      layer.source,
      layer.target,
    ]);
  }
  const repeated = (flag, values) => values.flatMap((value) => [flag, value]);
  const labels = Object.entries(meta.labels).map(([key, value]) => `${key}=${value}`);
  umoci([
    'config',
    '--image',
    image,
    // One history entry per layer is what tools show; a config change is not a layer.
    '--no-history',
    '--created',
    meta.created,
    '--os',
    'linux',
    '--config.user',
    config.user,
    '--config.workingdir',
    config.workingDir,
    '--config.stopsignal',
    'SIGTERM',
    ...repeated('--config.env', config.env),
    ...repeated('--config.entrypoint', config.entrypoint),
    ...repeated('--config.cmd', config.cmd),
    ...repeated('--config.label', labels),
    // The same facts as manifest annotations, where registries and OCI tools look.
    ...repeated('--manifest.annotation', labels),
  ]);
  umoci(['gc', '--layout', layout]);
}

/** The tagged manifest's digest, its layers and the compressed size (layers, config and manifest). */
export function describeImage(layout, tag) {
  const index = readJson(join(layout, 'index.json'));
  const descriptor = index.manifests.find(
    (entry) => entry.annotations?.['org.opencontainers.image.ref.name'] === tag,
  );
  if (descriptor === undefined) throw new Error(`${layout} has no image tagged ${tag}`);
  const manifest = readJson(blobPath(layout, descriptor.digest));
  const layers = manifest.layers.map(({ digest, size }) => ({ digest, size }));
  const size = descriptor.size + manifest.config.size + layers.reduce((sum, layer) => sum + layer.size, 0);
  return { digest: descriptor.digest, size, config: manifest.config.digest, layers };
}

export function blobPath(layout, digest) {
  const [algorithm, hex] = digest.split(':');
  return join(layout, 'blobs', algorithm, hex);
}

/** Files owned by the builder become owned by `owner` in the layer; any other owner is an error. */
function idMapping(owner) {
  const uid = process.geteuid();
  const gid = process.getegid();
  return ['--uid-map', `${owner.uid}:${uid}:1`, '--gid-map', `${owner.gid}:${gid}:1`];
}

function umoci(args) {
  try {
    execFileSync('umoci', args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    if (err.code === 'ENOENT')
      throw new Error('umoci is not installed (bash tools/install/debian-packages.sh)');
    throw new Error(`umoci ${args[0]} failed: ${String(err.stderr).trim()}`);
  }
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}
