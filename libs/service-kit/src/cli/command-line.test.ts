import { describe, expect, it } from 'vitest';
import { parseCommandLine, renderUsage, type Subcommand } from './command-line.js';

const setup: Subcommand = { summary: 'point containerd at the agent', run: () => 0 };

describe('parseCommandLine', () => {
  it('serves with --config in both spellings, or with the defaults', () => {
    expect(parseCommandLine(['--config', 'a.yaml'])).toEqual({ kind: 'serve', configPath: 'a.yaml' });
    expect(parseCommandLine(['--config=b.yaml'])).toEqual({ kind: 'serve', configPath: 'b.yaml' });
    expect(parseCommandLine([])).toEqual({ kind: 'serve', configPath: undefined });
  });

  it('answers --help and -h before --version, and whatever else is given', () => {
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['-h', '--config', 'a.yaml'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['--version', '--help'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['--version'])).toEqual({ kind: 'version' });
  });

  it('reports an unknown flag, a missing value and a stray argument as one short line', () => {
    expect(parseCommandLine(['--bogus'])).toEqual({
      kind: 'usage-error',
      problem: "unknown option '--bogus'",
    });
    expect(parseCommandLine(['--config'])).toEqual({
      kind: 'usage-error',
      problem: "option '--config <value>' argument missing",
    });
    expect(parseCommandLine(['--config', 'a.yaml', 'extra'])).toEqual({
      kind: 'usage-error',
      problem: "unexpected argument 'extra'",
    });
    expect(parseCommandLine(['--help=yes'])).toMatchObject({ kind: 'usage-error' });
  });

  it('hands a subcommand the arguments after its name, unparsed', () => {
    expect(parseCommandLine(['setup-containerd', '--remove', 'x'], { 'setup-containerd': setup })).toEqual({
      kind: 'subcommand',
      name: 'setup-containerd',
      argv: ['--remove', 'x'],
    });
    expect(parseCommandLine(['setup-containerd'])).toMatchObject({ kind: 'usage-error' });
    expect(parseCommandLine(['toString'], { 'setup-containerd': setup })).toMatchObject({
      kind: 'usage-error',
    });
  });
});

describe('renderUsage', () => {
  it('says what the component is, its flags, its config reference and an example', () => {
    const text = renderUsage({ component: 'origin', summary: 'the blob store.' });
    expect(text).toMatch(/^kraken origin: the blob store\.\n/);
    expect(text).toContain('Usage: kraken origin [--config <file>]');
    expect(text).toContain('docs/config/origin.md');
    expect(text).toContain('--version');
    expect(text).toContain('kraken origin --config /etc/kraken/origin.yaml');
    expect(text).not.toContain('Commands:');
  });

  it('lists the subcommands', () => {
    const text = renderUsage({
      component: 'agent',
      summary: 's',
      subcommands: { 'setup-containerd': setup },
    });
    expect(text).toContain('kraken agent <command> [args]');
    expect(text).toMatch(/Commands:\n {2}setup-containerd {2}point containerd at the agent\n/);
  });
});
