import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { loggingSchema, tracingSchema } from './config/service-config.js';
import { ConfigError } from './errors.js';
import { runMain } from './service-main.js';

const schema = z.object({ logging: loggingSchema, tracing: tracingSchema }).strict();

function main(argv: string[], run = vi.fn(() => 3)) {
  const createApp = vi.fn(() => ({ start: async () => {}, close: async () => {} }));
  const code = runMain({
    component: 'agent',
    summary: 'the registry on every host.',
    schema,
    createApp,
    subcommands: { 'setup-containerd': { summary: 'point containerd at the agent', run } },
    argv,
    build: { version: '1.2.3', commit: 'abc1234' },
  });
  return { code, createApp, run };
}

describe('runMain', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints the usage on --help and the version on --version, starting nothing', async () => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const help = main(['--help']);
    expect(await help.code).toBe(0);
    expect(help.createApp).not.toHaveBeenCalled();
    expect(String(stdout.mock.calls[0]?.[0])).toContain('setup-containerd  point containerd at the agent');
    const version = main(['--version']);
    expect(await version.code).toBe(0);
    expect(stdout).toHaveBeenLastCalledWith('kraken agent 1.2.3 (abc1234)\n');
  });

  it('exits 2 with one line on a bad flag', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const bad = main(['--bogus']);
    expect(await bad.code).toBe(2);
    expect(stderr).toHaveBeenCalledExactlyOnceWith("kraken agent: unknown option '--bogus' (see --help)\n");
    expect(bad.createApp).not.toHaveBeenCalled();
  });

  it('runs a subcommand with its arguments and exits with its code', async () => {
    const sub = main(['setup-containerd', '--remove']);
    expect(await sub.code).toBe(3);
    expect(sub.run).toHaveBeenCalledWith(['--remove']);
    expect(sub.createApp).not.toHaveBeenCalled();
  });

  it('exits 2 with one line on a config it cannot read', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['--config', '/nonexistent/agent.yaml']).code).toBe(2);
    expect(stderr).toHaveBeenCalledOnce();
    expect(String(stderr.mock.calls[0]?.[0])).toMatch(/^kraken agent: cannot read config file \/nonexistent/);
  });

  it('exits 2 with one line when a file the config names is bad', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await runMain({
      component: 'origin',
      summary: 'the blob store.',
      schema,
      createApp: () => {
        throw new ConfigError('tls.server.certFile "/etc/tls/tls.crt" cannot be read (ENOENT)');
      },
      argv: [],
    });
    expect(code).toBe(2);
    expect(stderr).toHaveBeenCalledExactlyOnceWith(
      'kraken origin: tls.server.certFile "/etc/tls/tls.crt" cannot be read (ENOENT)\n',
    );
  });
});
