import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isKrakenError } from '@kraken/foundation';
import {
  CONTAINERD_2_DEFAULT_CONFIG_PATH,
  checkContainerdConfig,
  parseRegistryHostsConfig,
} from './containerd-config.js';

const fixture = (name: string) => readFile(join(import.meta.dirname, 'testing', name), 'utf8');

describe('parseRegistryHostsConfig', () => {
  it('reads config_path from `containerd config default` (1.6) with config_path set', async () => {
    const config = parseRegistryHostsConfig(await fixture('containerd-1.6-config-path.toml'), 'config.toml');
    expect(config).toEqual({
      version: 2,
      section: 'plugins."io.containerd.grpc.v1.cri".registry',
      configPaths: ['/etc/containerd/certs.d'],
      legacyEntries: [],
    });
  });

  it('sees no config_path in the untouched 1.6 default', async () => {
    const config = parseRegistryHostsConfig(await fixture('containerd-1.6-default.toml'), 'config.toml');
    expect(config.configPaths).toEqual([]);
    expect(config.legacyEntries).toEqual([]);
  });

  it('reads the 2.x layout (version 3, io.containerd.cri.v1.images)', async () => {
    const config = parseRegistryHostsConfig(await fixture('containerd-2-config-path.toml'), 'config.toml');
    expect(config.version).toBe(3);
    expect(config.section).toBe('plugins."io.containerd.cri.v1.images".registry');
    expect(config.configPaths).toEqual(['/etc/containerd/certs.d']);
  });

  it("falls back to containerd 2.x's built-in config_path when version 3 leaves it out", () => {
    const config = parseRegistryHostsConfig('version = 3\n', 'config.toml');
    expect(config.configPaths).toEqual(CONTAINERD_2_DEFAULT_CONFIG_PATH.split(':'));
  });

  it('reads version 1 configs (plugins.cri)', () => {
    const config = parseRegistryHostsConfig('[plugins.cri.registry]\nconfig_path = "/a:/b"\n', 'config.toml');
    expect(config).toMatchObject({ version: 1, configPaths: ['/a', '/b'] });
  });

  it('lists legacy mirrors and TLS configs, but not auth-only configs', () => {
    const text = [
      'version = 2',
      '[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]',
      'endpoint = ["https://mirror.example"]',
      '[plugins."io.containerd.grpc.v1.cri".registry.configs."a.example".tls]',
      'insecure_skip_verify = true',
      '[plugins."io.containerd.grpc.v1.cri".registry.configs."b.example".auth]',
      'username = "u"',
    ].join('\n');
    expect(parseRegistryHostsConfig(text, 'config.toml').legacyEntries).toEqual([
      'plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"',
      'plugins."io.containerd.grpc.v1.cri".registry.configs."a.example".tls',
    ]);
  });

  it('rejects text that is not TOML, and unknown versions', () => {
    expect(() => parseRegistryHostsConfig('version = = 2', 'c.toml')).toThrow(/c.toml: not valid TOML/);
    expect(() => parseRegistryHostsConfig('version = 9', 'c.toml')).toThrow(/unknown config version 9/);
  });
});

describe('checkContainerdConfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kraken-containerd-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('treats a missing config.toml as config_path unset', async () => {
    const err = await checkContainerdConfig(join(dir, 'config.toml')).catch((e: unknown) => e);
    expect(isKrakenError(err, 'KRAKEN_CONTAINERD_CONFIG_PATH_UNSET')).toBe(true);
  });

  it('reports legacy mirrors before a missing config_path', async () => {
    const file = join(dir, 'config.toml');
    await writeFile(
      file,
      'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n',
    );
    const err = await checkContainerdConfig(file).catch((e: unknown) => e);
    expect(isKrakenError(err, 'KRAKEN_CONTAINERD_LEGACY_MIRRORS')).toBe(true);
  });
});
