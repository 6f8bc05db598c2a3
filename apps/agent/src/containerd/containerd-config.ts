/**
 * What containerd's config.toml says about registry hosts: whether CRI reads hosts.toml
 * files (`registry.config_path`) and whether legacy inline entries would stop it.
 *
 * The CRI registry section sits at a path that depends on the config's `version`:
 * 1 (no version) `plugins.cri`, 2 (containerd 1.x) `plugins."io.containerd.grpc.v1.cri"`,
 * 3 (containerd 2.x) `plugins."io.containerd.cri.v1.images"`. containerd refuses
 * `registry.mirrors` and `registry.configs.<host>.tls` next to a config_path, and with
 * them and no config_path it ignores hosts.toml; `configs.<host>.auth` is still honoured.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'smol-toml';
import {
  ContainerdConfigInvalidError,
  ContainerdConfigPathUnsetError,
  ContainerdLegacyMirrorsError,
} from './errors.js';

export type ContainerdConfigVersion = 1 | 2 | 3;

export interface RegistryHostsConfig {
  readonly version: ContainerdConfigVersion;
  /** The TOML path of the CRI registry section, as it would be written in config.toml. */
  readonly section: string;
  /** The directories containerd reads hosts.toml from; empty when it reads none. */
  readonly configPaths: readonly string[];
  /** Legacy entries that conflict with config_path, e.g. `mirrors."docker.io"`. */
  readonly legacyEntries: readonly string[];
}

const CRI_PLUGIN: Record<ContainerdConfigVersion, string> = {
  1: 'cri',
  2: 'io.containerd.grpc.v1.cri',
  3: 'io.containerd.cri.v1.images',
};

/** containerd 2.x's built-in config_path, used when a version 3 config leaves it out. */
export const CONTAINERD_2_DEFAULT_CONFIG_PATH = '/etc/containerd/certs.d:/etc/docker/certs.d';

type Table = Readonly<Record<string, unknown>>;

function asTable(value: unknown): Table | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Table) : undefined;
}

/** Reads the registry-hosts view out of config.toml's text; `file` only names it in errors. */
export function parseRegistryHostsConfig(text: string, file: string): RegistryHostsConfig {
  let doc: Table;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ContainerdConfigInvalidError(
      file,
      `not valid TOML: ${(err as Error).message.split('\n')[0]}`,
      err,
    );
  }
  const rawVersion = doc['version'] ?? 1;
  if (rawVersion !== 1 && rawVersion !== 2 && rawVersion !== 3) {
    throw new ContainerdConfigInvalidError(file, `unknown config version ${JSON.stringify(rawVersion)}`);
  }
  const version: ContainerdConfigVersion = rawVersion;
  const plugin = CRI_PLUGIN[version];
  const section = `plugins.${version === 1 ? plugin : JSON.stringify(plugin)}.registry`;
  const registry = asTable(asTable(asTable(doc['plugins'])?.[plugin])?.['registry']) ?? {};

  const rawConfigPath = registry['config_path'];
  const configPath =
    rawConfigPath === undefined && version === 3
      ? CONTAINERD_2_DEFAULT_CONFIG_PATH
      : typeof rawConfigPath === 'string'
        ? rawConfigPath
        : '';
  const configPaths = configPath.split(':').filter((p) => p !== '');

  const legacyEntries: string[] = [];
  for (const host of Object.keys(asTable(registry['mirrors']) ?? {})) {
    legacyEntries.push(`${section}.mirrors.${JSON.stringify(host)}`);
  }
  for (const [host, config] of Object.entries(asTable(registry['configs']) ?? {})) {
    if (asTable(config)?.['tls'] !== undefined)
      legacyEntries.push(`${section}.configs.${JSON.stringify(host)}.tls`);
  }
  return { version, section, configPaths, legacyEntries };
}

/**
 * Reads config.toml and throws unless containerd would read the hosts.toml files written
 * under config_path. A missing file means containerd runs on its defaults, which on 1.x
 * read no hosts.toml.
 */
export async function checkContainerdConfig(file: string): Promise<RegistryHostsConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ContainerdConfigPathUnsetError(
        file,
        'no such file, so containerd runs on defaults that (on 1.x) set no registry config_path; ' +
          'create it with config_path set, or pass --skip-config-check on containerd 2.x',
      );
    }
    throw new ContainerdConfigInvalidError(file, `cannot be read: ${(err as Error).message}`, err);
  }
  const config = parseRegistryHostsConfig(text, file);
  if (config.legacyEntries.length > 0) throw new ContainerdLegacyMirrorsError(file, config.legacyEntries);
  if (config.configPaths.length === 0) {
    throw new ContainerdConfigPathUnsetError(
      file,
      `${config.section}.config_path is not set, so containerd would ignore hosts.toml files; ` +
        `set it (e.g. config_path = "/etc/containerd/certs.d") and restart containerd once`,
    );
  }
  return config;
}
