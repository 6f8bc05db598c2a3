// The image build: stage each layer's files (Debian packages, Node.js, npm packages, the
// data directory, the apps), write the SBOM, pack the layers with umoci and describe the
// result. Layers go from the least to the most often changed, so that a new commit
// usually ships only the last one, about half a megabyte.
import { execFileSync } from 'node:child_process';
import { globSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianRelease, downloadPackages, installedPackages, unpackPackages } from './debian-packages.mjs';
import { assembleImage, describeImage } from './image-layout.mjs';
import { imageMetadata } from './image-metadata.mjs';
import { installNpmDependencies } from './npm-dependencies.mjs';
import {
  APP_DIR,
  FRONT,
  SBOM_PATH,
  USER,
  normalise,
  stageApps,
  stageNode,
  stageSystemFiles,
  trimNodeModules,
} from './root-filesystem.mjs';
import { spdxDocument } from './sbom.mjs';

/**
 * Builds the image from the apps as built into `<output>/oci`, with `<output>/sbom.spdx.json`
 * and `<output>/image.json` (the summary it returns: digest, compressed size, layers).
 */
export async function buildImage({ root, output, source }) {
  const meta = imageMetadata(root, { source });
  checkBuiltCommit(root, meta);
  const reference = `kraken:${meta.version}`;
  const stage = mkdtempSync(join(tmpdir(), 'kraken-image-'));
  try {
    const dir = (name) => join(stage, name);
    const debs = downloadPackages(installedPackages(), join(root, '.cache/image/debs'));
    unpackPackages(debs, dir('system'));
    stageSystemFiles(dir('system'));
    const node = stageNode(root, dir('node'));
    stageApps(root, dir('kraken'));

    // npm installs beside its package.json; the manifest and lockfile then move to the
    // apps' layer, so the dependencies' layer changes only when the dependencies do.
    const npmDir = join(dir('npm'), APP_DIR);
    mkdirSync(npmDir, { recursive: true });
    const npmPackages = await installNpmDependencies({
      root,
      dir: npmDir,
      entryPoints: globSync('apps/*/dist/*.js', { cwd: root })
        .sort()
        .map((path) => join(root, path)),
      version: meta.version,
      license: meta.license,
    });
    for (const file of ['package.json', 'package-lock.json']) {
      renameSync(join(npmDir, file), join(dir('kraken'), APP_DIR, file));
    }
    trimNodeModules(join(npmDir, 'node_modules'));

    const sbom = `${JSON.stringify(spdxDocument({ meta, node, debs, npmPackages, distro: debianRelease() }), null, 2)}\n`;
    mkdirSync(join(dir('kraken'), SBOM_PATH, '..'), { recursive: true });
    writeFileSync(join(dir('kraken'), SBOM_PATH), sbom);
    mkdirSync(dir('data'));

    const root0 = { uid: 0, gid: 0 };
    const layers = [
      {
        name: 'debian',
        source: dir('system'),
        target: '/',
        owner: root0,
        description: `debian packages: ${debs.map((deb) => `${deb.name} ${deb.version}`).join(', ')}`,
      },
      { name: 'node', source: dir('node'), target: '/', owner: root0, description: `node ${node.version}` },
      {
        name: 'npm',
        source: dir('npm'),
        target: '/',
        owner: root0,
        description: `npm packages: ${Object.keys(npmPackages).length - 1}`,
      },
      {
        name: 'data',
        source: dir('data'),
        target: USER.home,
        owner: USER,
        description: `${USER.home}, owned by ${USER.name}`,
      },
      {
        name: 'kraken',
        source: dir('kraken'),
        target: '/',
        owner: root0,
        description: `kraken ${meta.version} (${meta.commit})`,
      },
    ];
    for (const layer of layers) normalise(layer.source, meta.epoch);

    const layout = join(output, 'oci');
    assembleImage({
      layout,
      tag: reference,
      layers,
      meta,
      config: {
        user: `${USER.uid}:${USER.gid}`,
        workingDir: USER.home,
        env: [
          'PATH=/usr/bin',
          'NODE_ENV=production',
          // The front's `kraken --version` reads it, as there is no .git in the image.
          `KRAKEN_COMMIT=${meta.commit}`,
        ],
        entrypoint: ['/usr/bin/node', FRONT],
        cmd: ['--help'],
      },
    });
    const image = describeImage(layout, reference);
    const summary = {
      reference,
      digest: image.digest,
      size: image.size,
      version: meta.version,
      commit: meta.commit,
      created: meta.created,
      config: image.config,
      layers: image.layers.map((layer, i) => ({ ...layer, content: layers[i].name })),
      layout,
    };
    writeFileSync(join(output, 'sbom.spdx.json'), sbom);
    writeFileSync(join(output, 'image.json'), `${JSON.stringify({ ...summary, layout: 'oci' }, null, 2)}\n`);

    return summary;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * The labels name the commit that the binaries bake in; apps built at another commit (an
 * old build with --no-build) would make them disagree. Uncommitted changes cannot be told
 * apart by the binaries, so they are only reported.
 */
function checkBuiltCommit(root, meta) {
  for (const app of globSync('apps/*/dist/main.js', { cwd: root }).sort()) {
    const line = execFileSync(process.execPath, [app, '--version'], { cwd: root, encoding: 'utf8' }).trim();
    if (!line.endsWith(`${meta.version} (${meta.commit})`)) {
      throw new Error(`${app} says "${line}", not ${meta.version} (${meta.commit}): build the apps again`);
    }
  }
  let changed = '';
  try {
    changed = execFileSync('git', ['status', '--porcelain', '--', 'apps', 'libs', 'package-lock.json'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    // Not a git checkout: SOURCE_DATE_EPOCH and KRAKEN_COMMIT say what it is.
  }
  if (changed.trim() !== '') {
    process.stderr.write(
      `image: note: uncommitted changes in apps/ or libs/ are in the image, not in ${meta.commit}\n`,
    );
  }
}
