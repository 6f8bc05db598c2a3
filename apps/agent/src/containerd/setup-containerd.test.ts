import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderHostsToml } from './hosts-toml.js';
import { run } from './setup-containerd.js';

let root: string;
let certs: string;
let config: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'kraken-setup-containerd-'));
  certs = join(root, 'certs.d');
  config = join(root, 'config.toml');
  await useConfig('containerd-1.6-config-path.toml');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Installs a config.toml fixture, its config_path pointed at the test's certs.d. */
async function useConfig(fixture: string): Promise<void> {
  const text = await readFile(join(import.meta.dirname, 'testing', fixture), 'utf8');
  await writeFile(
    config,
    text.replace(/config_path = (["'])\/etc\/containerd\/certs\.d\1/, `config_path = "${certs}"`),
  );
}

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: { write: (chunk: string | Uint8Array) => ((stdout += String(chunk)), true) },
    stderr: { write: (chunk: string | Uint8Array) => ((stderr += String(chunk)), true) },
  });
  return { code, stdout, stderr };
}

const setup = (...extra: string[]) =>
  cli(
    '--config-path',
    certs,
    '--containerd-config',
    config,
    '--registries',
    'docker.io,ghcr.io,_default',
    ...extra,
  );

/** Every file under `dir` with its bytes, to compare whole trees. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    files[path.slice(dir.length)] = entry.isFile() ? await readFile(path, 'utf8') : '<dir>';
  }
  return files;
}

describe('setup-containerd', () => {
  it('writes one hosts.toml per registry', async () => {
    const result = await setup();
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const mirror = 'http://127.0.0.1:16000';
    for (const registry of ['docker.io', 'ghcr.io', '_default']) {
      expect(await readFile(join(certs, registry, 'hosts.toml'), 'utf8')).toBe(
        renderHostsToml({ registry, mirror }),
      );
    }
  });

  it('is idempotent: a second run changes nothing, byte for byte', async () => {
    await setup();
    const before = await snapshot(root);
    const second = await setup();
    expect(second).toEqual({ code: 0, stdout: 'setup-containerd: nothing to change\n', stderr: '' });
    expect(await snapshot(root)).toEqual(before);
  });

  it('backs up a hosts.toml that was there, once, and restores it with --remove', async () => {
    const theirs =
      'server = "https://registry-1.docker.io"\n\n[host."https://mirror.example"]\n  capabilities = ["pull"]\n';
    await mkdir(join(certs, 'docker.io'), { recursive: true });
    await writeFile(join(certs, 'docker.io', 'hosts.toml'), theirs);
    await writeFile(join(certs, 'docker.io', 'ca.crt'), 'cert');
    const before = await snapshot(root);

    expect((await setup()).code).toBe(0);
    expect(await readFile(join(certs, 'docker.io', 'hosts.toml.kraken-backup'), 'utf8')).toBe(theirs);
    // A run with another mirror rewrites our file but keeps the first backup.
    expect((await setup('--mirror', 'http://127.0.0.1:16001')).code).toBe(0);
    expect(await readFile(join(certs, 'docker.io', 'hosts.toml.kraken-backup'), 'utf8')).toBe(theirs);

    const removed = await setup('--remove');
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain(`restore ${join(certs, 'docker.io', 'hosts.toml')}`);
    expect(await snapshot(root)).toEqual(before);
    expect(await setup('--remove')).toMatchObject({
      code: 0,
      stdout: 'setup-containerd: nothing to change\n',
    });
  });

  it('--remove with no prior file deletes ours and the directories it created', async () => {
    const before = await snapshot(root);
    await setup();
    expect((await setup('--remove')).code).toBe(0);
    expect(await snapshot(root)).toEqual(before);
  });

  it('--remove leaves a hosts.toml that is not ours, and directories it did not create', async () => {
    await mkdir(join(certs, 'ghcr.io'), { recursive: true });
    await writeFile(join(certs, 'ghcr.io', 'hosts.toml'), 'server = "https://ghcr.io"\n');
    const before = await snapshot(root);
    expect((await setup('--remove')).stdout).toBe('setup-containerd: nothing to change\n');
    expect(await snapshot(root)).toEqual(before);
  });

  it('--dry-run prints the plan and writes nothing', async () => {
    const before = await snapshot(root);
    const result = await setup('--dry-run');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`would write ${join(certs, 'docker.io', 'hosts.toml')}`);
    expect(await snapshot(root)).toEqual(before);
  });

  it('exits 3 when containerd 1.x has no config_path, and writes nothing', async () => {
    await useConfig('containerd-1.6-default.toml');
    const result = await setup();
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\.config_path is not set/,
    );
    expect(await readdir(root)).toEqual(['config.toml']);
  });

  it('exits 4 on legacy mirrors in config.toml', async () => {
    const text = await readFile(config, 'utf8');
    await writeFile(
      config,
      text.replace(
        '[plugins."io.containerd.grpc.v1.cri".registry.mirrors]',
        '[plugins."io.containerd.grpc.v1.cri".registry.mirrors]\n' +
          '        [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n' +
          '          endpoint = ["https://mirror.example"]',
      ),
    );
    const result = await setup();
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('mirrors."docker.io" conflict with config_path');
  });

  it('accepts the 2.x layout, and says that ctr needs --hosts-dir there', async () => {
    await useConfig('containerd-2-config-path.toml');
    const result = await setup();
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`uses them only with --hosts-dir ${certs}`);
  });

  it('writes the server given as name=<url>, and checks it', async () => {
    const result = await cli(
      '--config-path',
      certs,
      '--skip-config-check',
      '--registries',
      'docker.io=http://10.0.0.5:5000/,ghcr.io',
    );
    expect(result.code).toBe(0);
    const dockerHub = await readFile(join(certs, 'docker.io', 'hosts.toml'), 'utf8');
    expect(dockerHub).toContain('server = "http://10.0.0.5:5000"');
    expect(await readFile(join(certs, 'ghcr.io', 'hosts.toml'), 'utf8')).toContain(
      'server = "https://ghcr.io"',
    );
    for (const bad of ['docker.io=ftp://x', 'docker.io=http://u:p@x', 'docker.io=']) {
      const refused = await cli('--config-path', certs, '--skip-config-check', '--registries', bad);
      expect(refused.code, bad).toBe(2);
      expect(refused.stderr, bad).toContain('server for docker.io');
      expect(refused.stderr, bad).not.toContain('u:p');
    }
  });

  it('notes a config_path that differs from --config-path, and still writes', async () => {
    await copyFile(join(import.meta.dirname, 'testing', 'containerd-1.6-config-path.toml'), config);
    const result = await cli('--config-path', certs, '--containerd-config', config);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('containerd reads hosts from /etc/containerd/certs.d');
  });

  it('skips config.toml with --skip-config-check', async () => {
    const result = await cli(
      '--config-path',
      certs,
      '--containerd-config',
      join(root, 'none.toml'),
      '--skip-config-check',
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
  });

  it.each([['../x'], ['a/b'], [''], ['docker.io,,ghcr.io'], ['..']])(
    'exits 2 on registry %j',
    async (registries) => {
      const result = await cli('--config-path', certs, '--skip-config-check', '--registries', registries);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/invalid registry name/);
      expect(await readdir(root)).toEqual(['config.toml']);
    },
  );

  it('exits 2 on unknown flags, positionals and bad mirrors', async () => {
    expect((await cli('--bogus')).code).toBe(2);
    expect((await cli('extra')).code).toBe(2);
    expect((await cli('--mirror', 'ftp://x', '--skip-config-check')).code).toBe(2);
  });

  it('prints help', async () => {
    const result = await cli('--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: kraken agent setup-containerd/);
  });

  it('exits 1 when the directory cannot be written', async () => {
    await writeFile(certs, 'a file, not a directory');
    const result = await setup();
    expect(result.code).toBe(1);
    expect(result.stderr).not.toBe('');
  });
});
