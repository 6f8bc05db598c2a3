/** Typed errors of `kraken agent setup-containerd`; the command maps each to its exit code. */
import { KrakenError } from '@kraken/foundation';

/** A bad flag, registry name or mirror URL (exit code 2). */
export class SetupUsageError extends KrakenError {
  constructor(message: string) {
    super('KRAKEN_CONTAINERD_SETUP_USAGE', message);
  }
}

/** containerd's config.toml is unreadable, not TOML, or of an unknown version (exit code 1). */
export class ContainerdConfigInvalidError extends KrakenError {
  constructor(file: string, reason: string, cause?: unknown) {
    super('KRAKEN_CONTAINERD_CONFIG_INVALID', `${file}: ${reason}`, { cause, detail: { file } });
  }
}

/** containerd would not read hosts.toml files at all (exit code 3). */
export class ContainerdConfigPathUnsetError extends KrakenError {
  constructor(file: string, reason: string) {
    super('KRAKEN_CONTAINERD_CONFIG_PATH_UNSET', `${file}: ${reason}`, { detail: { file } });
  }
}

/** Legacy `registry.mirrors` or `registry.configs.*.tls` entries, which containerd refuses next to config_path (exit code 4). */
export class ContainerdLegacyMirrorsError extends KrakenError {
  constructor(file: string, entries: readonly string[]) {
    super(
      'KRAKEN_CONTAINERD_LEGACY_MIRRORS',
      `${file}: legacy registry entries ${entries.join(', ')} conflict with config_path; ` +
        'move them to hosts.toml files under config_path and delete them from config.toml',
      { detail: { file, entries } },
    );
  }
}
