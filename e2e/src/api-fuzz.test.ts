/**
 * Fuzzing of the internal /v1/ APIs with schemathesis (pinned, installed by
 * tools/install/python-tools.sh) against real processes: each component's OpenAPI document
 * (docs/api/, generated from the route contracts) drives seeded requests, valid and
 * invalid, to its origin, tracker and build-index nodes. No request may be answered with a
 * server error, and no process may go down.
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
const schemathesis = join(repoRoot, '.cache', 'bin', 'schemathesis');
/** Test cases per operation and phase; with the seed, the same requests every run. */
const MAX_EXAMPLES = 100;
const SEED = 1;

let work: string;
let cluster: Cluster;
/** Components that exited, with how. */
const exits = new Map<string, { code: number | null; signal: NodeJS.Signals | null }>();

beforeAll(async () => {
  if (!existsSync(schemathesis)) {
    throw new Error('schemathesis is not installed: run tools/install/python-tools.sh (bash .ci/run does)');
  }
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-api-fuzz-'));
  // Two build-index nodes, so replicated writes are pushed to a peer and read back there.
  cluster = await startCluster({ dir: join(work, 'cluster'), agents: 0, buildIndexes: 2 });
  for (const component of cluster.components) {
    void component.exited.then((exit) => exits.set(component.name, exit));
  }
});

afterAll(async () => {
  await cluster?.stop();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

interface Run {
  readonly code: number;
  readonly output: string;
}

function fuzz(component: 'origin' | 'tracker' | 'build-index', url: string): Promise<Run> {
  const args = [
    'run',
    join(repoRoot, 'docs', 'api', `${component}.openapi.json`),
    '--url',
    url,
    '--checks',
    'not_a_server_error',
    '--max-examples',
    String(MAX_EXAMPLES),
    '--seed',
    String(SEED),
    // One worker, so the requests reach the servers in the same order every run.
    '--workers',
    '1',
    '--request-timeout',
    '20',
    '--generation-database',
    'none',
    '--no-color',
  ];
  return new Promise((resolve) => {
    execFile(
      schemathesis,
      args,
      { cwd: work, maxBuffer: 64 * 1024 * 1024, timeout: 240_000, env: { ...process.env, NO_COLOR: '1' } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

/** The failures and summary of a schemathesis report, or its tail when it has none. */
function reportOf(output: string): string {
  const start = output.indexOf('= FAILURES =');
  const report = start === -1 ? output.slice(-6000) : output.slice(output.lastIndexOf('\n', start) + 1);
  return report.length > 30_000 ? `${report.slice(0, 30_000)}\n...` : report;
}

async function assertAllRunning(): Promise<void> {
  for (const component of cluster.components) {
    const exit = exits.get(component.name);
    const log = exit === undefined ? '' : (await readFile(component.logFile, 'utf8')).slice(-4000);
    expect(exit, `${component.name} went down:\n${log}`).toBeUndefined();
    const health = await fetch(`${component.url}/health`);
    expect(health.status, `${component.name} /health`).toBe(200);
  }
}

describe('fuzzing the internal /v1/ APIs', () => {
  it.each(['origin', 'tracker', 'build-index'] as const)(
    '%s answers no request with a server error and stays up',
    async (component) => {
      // The first node of each kind; the others take part through replication.
      const url = cluster.endpoints[component][0]!;
      const run = await fuzz(component, url);
      expect(run.code, `schemathesis against ${component} at ${url}:\n${reportOf(run.output)}`).toBe(0);
      await assertAllRunning();
    },
  );
});
