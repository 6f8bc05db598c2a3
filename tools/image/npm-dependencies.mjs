// The third-party npm packages inside the image. tools/build-app.mjs bundles the workspace
// libs but leaves every npm package external, so the image needs exactly the packages the
// bundles import and what those depend on, at the versions of the repository's
// package-lock.json. esbuild's metafile names the imports; a lockfile cut from the root one
// (the same entries, resolved the way Node resolves them) lets `npm ci --omit=dev` install
// them with their integrity checked, and nothing else.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';

/** The npm packages that the apps' bundles import (statically or dynamically), sorted. */
export async function importedPackages(entryPoints) {
  const { metafile } = await build({
    // Distinct output names (the apps' entries share file names); nothing is written.
    entryPoints: Object.fromEntries(entryPoints.map((path, i) => [`entry-${i}`, path])),
    outdir: 'unwritten',
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  });
  const names = new Set();
  for (const input of Object.values(metafile.inputs)) {
    for (const { path, external } of input.imports) {
      if (!external || isBuiltin(path)) continue;
      const [first, second] = path.split('/');
      names.add(first.startsWith('@') ? `${first}/${second}` : first);
    }
  }
  for (const name of names) {
    if (name.startsWith('@kraken/')) throw new Error(`a bundle imports the workspace package ${name}`);
  }
  return [...names].sort();
}

/**
 * The part of the root lockfile those packages need: each lock entry reached from them
 * through dependencies (optional and peer ones only when the lock has them), keyed by
 * install path, with the root's flags (dev, peer) dropped since they described the
 * workspace, not this tree.
 */
export function lockfileFor(rootLock, packages, manifest) {
  const entries = new Map();
  const visit = (from, name, required) => {
    const path = resolve(rootLock.packages, from, name);
    if (path === undefined) {
      if (required) throw new Error(`package-lock.json has no ${name} for ${from || 'the root'}`);
      return;
    }
    if (entries.has(path)) return;
    const entry = rootLock.packages[path];
    if (entry.link) throw new Error(`${name} is a workspace link in package-lock.json`);
    const kept = { ...entry };
    for (const flag of ['dev', 'devOptional', 'peer']) delete kept[flag];
    entries.set(path, kept);
    for (const dep of Object.keys(entry.dependencies ?? {})) visit(path, dep, true);
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) visit(path, dep, false);
    for (const dep of Object.keys(entry.peerDependencies ?? {})) {
      visit(path, dep, entry.peerDependenciesMeta?.[dep]?.optional !== true);
    }
  };
  for (const name of packages) visit('', name, true);
  const sorted = [...entries.keys()].sort();
  return {
    name: manifest.name,
    version: manifest.version,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: manifest.name, version: manifest.version, dependencies: manifest.dependencies },
      ...Object.fromEntries(sorted.map((path) => [path, entries.get(path)])),
    },
  };
}

/** Node's lookup: node_modules/<name> in the requiring package, then in each one above it. */
function resolve(lockPackages, from, name) {
  let dir = from;
  for (;;) {
    const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (lockPackages[candidate] !== undefined) return candidate;
    if (dir === '') return undefined;
    const at = dir.lastIndexOf('/node_modules/');
    dir = at === -1 ? '' : dir.slice(0, at);
  }
}

/**
 * Writes package.json and package-lock.json into `dir` and installs the packages there.
 * Returns the lockfile's packages (path → entry), which the SBOM lists.
 */
export async function installNpmDependencies({ root, dir, entryPoints, version, license }) {
  const rootLock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const imported = await importedPackages(entryPoints);
  const exact = (name) => rootLock.packages[`node_modules/${name}`]?.version;
  const manifest = {
    name: 'kraken',
    version,
    private: true,
    // The bundles are ES modules with a .js extension.
    type: 'module',
    license,
    dependencies: Object.fromEntries(imported.map((name) => [name, exact(name) ?? '*'])),
  };
  const lock = lockfileFor(rootLock, imported, manifest);
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  // No install scripts: nothing in the tree builds native code, and a script's output would
  // make the layer depend on the machine that ran it.
  execFileSync(
    'npm',
    [
      'ci',
      '--omit=dev',
      '--ignore-scripts',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return lock.packages;
}
