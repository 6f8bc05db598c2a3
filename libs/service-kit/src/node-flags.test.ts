import { describe, expect, it } from 'vitest';
import {
  missingNodeFlags,
  nodeFlagName,
  RELAUNCHED_ENV,
  relaunchWithNodeFlags,
  type NodeFlagsProcess,
} from './node-flags.js';

const WANTED = ['--max-semi-space-size=1', '--liftoff-only'];

function fakeProcess(overrides: Partial<NodeFlagsProcess> = {}) {
  const calls: { file: string; args: readonly string[]; env: NodeJS.ProcessEnv }[] = [];
  const proc: NodeFlagsProcess = {
    execPath: '/usr/bin/node',
    execArgv: [],
    argv: ['/usr/bin/node', '/app/main.js', '--config', 'agent.yaml'],
    env: { PATH: '/usr/bin' },
    execve: ((file: string, args?: readonly string[], env?: NodeJS.ProcessEnv) => {
      calls.push({ file, args: args ?? [], env: env ?? {} });
    }) as NodeFlagsProcess['execve'],
    ...overrides,
  };
  return { proc, calls };
}

describe('nodeFlagName', () => {
  it('names a flag whatever its value, spelling or negation', () => {
    expect(nodeFlagName('--max-semi-space-size=1')).toBe('max-semi-space-size');
    expect(nodeFlagName('--max_semi_space_size=64')).toBe('max-semi-space-size');
    expect(nodeFlagName('--no-liftoff-only')).toBe('liftoff-only');
    expect(nodeFlagName('--liftoff-only')).toBe('liftoff-only');
  });
});

describe('missingNodeFlags', () => {
  it('keeps the flags named neither on the command line nor in NODE_OPTIONS', () => {
    expect(missingNodeFlags(WANTED, { execArgv: [] })).toEqual(WANTED);
    expect(missingNodeFlags(WANTED, { execArgv: ['--no-liftoff-only'] })).toEqual([
      '--max-semi-space-size=1',
    ]);
    expect(
      missingNodeFlags(WANTED, {
        execArgv: [],
        nodeOptions: '--max-semi-space-size=16  --enable-source-maps',
      }),
    ).toEqual(['--liftoff-only']);
  });
});

describe('relaunchWithNodeFlags', () => {
  it('re-executes once with the missing flags after its own, before the script and its arguments', () => {
    const { proc, calls } = fakeProcess({ execArgv: ['--enable-source-maps'] });
    expect(relaunchWithNodeFlags(WANTED, proc)).toBe(true);
    expect(calls).toEqual([
      {
        file: '/usr/bin/node',
        args: [
          '/usr/bin/node',
          '--enable-source-maps',
          '--max-semi-space-size=1',
          '--liftoff-only',
          '/app/main.js',
          '--config',
          'agent.yaml',
        ],
        env: { PATH: '/usr/bin', [RELAUNCHED_ENV]: '1' },
      },
    ]);
  });

  it('does nothing when every flag is given, and leaves the given values alone', () => {
    const { proc, calls } = fakeProcess({
      execArgv: ['--liftoff-only'],
      env: { NODE_OPTIONS: '--max-semi-space-size=8' },
    });
    expect(relaunchWithNodeFlags(WANTED, proc)).toBe(false);
    expect(calls).toEqual([]);
  });

  it('relaunches at most once, and removes its mark so that child processes relaunch their own', () => {
    const { proc, calls } = fakeProcess({ env: { [RELAUNCHED_ENV]: '1' } });
    expect(relaunchWithNodeFlags(WANTED, proc)).toBe(false);
    expect(calls).toEqual([]);
    expect(proc.env[RELAUNCHED_ENV]).toBeUndefined();
  });

  it('carries on without the flags where a process cannot be replaced', () => {
    const { proc } = fakeProcess({ execve: undefined });
    expect(relaunchWithNodeFlags(WANTED, proc)).toBe(false);
  });
});
