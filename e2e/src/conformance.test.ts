/**
 * The official OCI distribution-spec conformance suite (pinned, built by
 * tools/install/go-tools.sh) against real processes: the proxy with every workflow,
 * and an agent in read-only mode over content seeded through the proxy.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from './support/cluster.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const runner = join(repoRoot, 'tools', 'conformance', 'run.sh');
let work: string;
let cluster: Cluster;

beforeAll(async () => {
  if (!existsSync(join(repoRoot, '.cache', 'bin', 'oci-conformance'))) {
    throw new Error('the conformance suite is not built: run tools/install/go-tools.sh (bash .ci/run does)');
  }
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-conformance-'));
  cluster = await startCluster({ dir: join(work, 'cluster'), agents: 1 });
});

afterAll(async () => {
  await cluster?.stop();
  await rm(work, { recursive: true, force: true });
});

async function conformance(args: string[], out: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [runner, ...args, '--out', out],
      { maxBuffer: 64 * 1024 * 1024, timeout: 600_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

async function failures(out: string): Promise<string> {
  try {
    return (await readFile(join(out, 'suite.log'), 'utf8'))
      .split('\n')
      .filter((l) => /fail/i.test(l))
      .slice(0, 60)
      .join('\n');
  } catch {
    return '(no suite.log)';
  }
}

describe('OCI distribution-spec conformance', () => {
  it('passes every workflow against the proxy', async () => {
    const out = join(work, 'proxy');
    const result = await conformance(['--url', cluster.endpoints.proxy[0]!, '--workflows', 'all'], out);
    expect(result.code, `${result.output}\n${await failures(out)}`).toBe(0);
  });

  it('passes the pull and discovery workflows against a read-only agent', async () => {
    const out = join(work, 'agent');
    const result = await conformance(
      [
        '--url',
        cluster.endpoints.agent[0]!,
        '--seed-via',
        cluster.endpoints.proxy[0]!,
        '--repo1',
        'conformance/agent',
      ],
      out,
    );
    expect(result.code, `${result.output}\n${await failures(out)}`).toBe(0);
  });
});
