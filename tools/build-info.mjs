// The version and commit a build carries: the root package.json's version and the git
// commit (KRAKEN_COMMIT when set, as in an image build without .git; "unknown" outside a
// git checkout). tools/build-app.mjs bakes them into each binary; the kraken front reads
// them at run time.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export function buildInfo() {
  const { version } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
  return { version, commit: process.env.KRAKEN_COMMIT || gitCommit() };
}

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
}
