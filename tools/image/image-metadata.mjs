// What a build stamps on the image: version and commit (the same as the binaries'
// `--version`, from tools/build-info.mjs), the time (the commit's, so that two builds of
// one commit agree; SOURCE_DATE_EPOCH overrides it, as reproducible-builds tools expect),
// where the source lives, and the OCI labels made of them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildInfo } from '../build-info.mjs';

export function imageMetadata(root, { source } = {}) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const { version, commit } = buildInfo();
  const epoch = sourceDateEpoch(root);
  const meta = {
    version,
    commit,
    epoch,
    // RFC 3339 in whole seconds, as the OCI config's `created`.
    created: new Date(epoch * 1000).toISOString().replace('.000Z', 'Z'),
    license: pkg.license,
    description: pkg.description,
    source: source ?? repositoryUrl(root, pkg),
  };
  return { ...meta, labels: labels(meta) };
}

function labels(meta) {
  const entries = {
    'org.opencontainers.image.title': 'kraken',
    'org.opencontainers.image.description': meta.description,
    'org.opencontainers.image.version': meta.version,
    'org.opencontainers.image.revision': meta.commit,
    'org.opencontainers.image.created': meta.created,
    'org.opencontainers.image.licenses': meta.license,
    'org.opencontainers.image.source': meta.source,
  };
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
}

function sourceDateEpoch(root) {
  const fromEnv = process.env.SOURCE_DATE_EPOCH;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!/^\d+$/.test(fromEnv)) throw new Error(`SOURCE_DATE_EPOCH is not a number of seconds: ${fromEnv}`);
    return Number(fromEnv);
  }
  const out = git(root, ['log', '-1', '--format=%ct']);
  if (out === undefined) throw new Error('no git commit to date the image by: set SOURCE_DATE_EPOCH');
  return Number(out);
}

/** package.json's repository, else the git remote `origin` (https form); undefined when neither exists. */
function repositoryUrl(root, pkg) {
  const declared = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  const url = declared ?? git(root, ['remote', 'get-url', 'origin']);
  if (url === undefined) return undefined;
  return url
    .replace(/^git\+/, '')
    .replace(/^git@([^:]+):/, 'https://$1/')
    .replace(/\.git$/, '');
}

function git(root, args) {
  try {
    return execFileSync('git', args, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}
