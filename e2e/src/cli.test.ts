/**
 * The command line of the built binaries, run as people run them: `--help` and
 * `--version` answer and exit without starting a service, a bad flag is one line and
 * exit code 2; directly (`node apps/<component>/dist/main.js`) and through the `kraken`
 * front (tools/kraken/kraken.mjs).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const { version } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { version: string };

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` from the repository root; a process still running after 20 s is killed (code null). */
function node(args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: root, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

/** True when nothing listens on the port (the agent's default is 16000). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

const direct = (component: string) => [`apps/${component}/dist/main.js`];
const front = (component: string) => ['tools/kraken/kraken.mjs', component];

describe.each([
  ['node apps/agent/dist/main.js', 'agent', direct('agent')],
  ['kraken agent', 'agent', front('agent')],
  ['kraken origin', 'origin', front('origin')],
])('%s', (_name, component, command) => {
  it('prints its usage on --help and exits 0 without starting', async () => {
    const { code, stdout, stderr } = await node([...command, '--help']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain(`Usage: kraken ${component} [--config <file>]`);
    expect(stdout).toContain(`docs/config/${component}.md`);
    if (component === 'agent') expect(await portIsFree(16000)).toBe(true);
  });

  it('prints the version and commit on --version', async () => {
    const { code, stdout } = await node([...command, '--version']);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      new RegExp(`^kraken ${component} ${version.replaceAll('.', '\\.')} \\((\\w+)\\)\\n$`),
    );
  });

  it('rejects an unknown flag with one line and exit code 2', async () => {
    const { code, stdout, stderr } = await node([...command, '--bogus']);
    expect({ code, stdout, stderr }).toEqual({
      code: 2,
      stdout: '',
      stderr: `kraken ${component}: unknown option '--bogus' (see --help)\n`,
    });
  });
});

describe('kraken', () => {
  it('lists the components on --help', async () => {
    const { code, stdout } = await node(['tools/kraken/kraken.mjs', '--help']);
    expect(code).toBe(0);
    for (const component of ['agent', 'origin', 'tracker', 'proxy', 'build-index', 'operator']) {
      expect(stdout).toMatch(new RegExp(`^  ${component} +\\S`, 'm'));
    }
  });

  it('prints its version on --version', async () => {
    const { code, stdout } = await node(['tools/kraken/kraken.mjs', '--version']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^kraken \S+ \(\w+\)\n$/);
  });

  it('rejects an unknown component with one line and exit code 2', async () => {
    const { code, stderr } = await node(['tools/kraken/kraken.mjs', 'registry']);
    expect({ code, stderr }).toEqual({
      code: 2,
      stderr: "kraken: unknown component 'registry' (see --help)\n",
    });
  });
});
