/**
 * One registry's `hosts.toml` as containerd reads it (containerd docs/hosts.md): the
 * upstream `server` containerd would use anyway, and the agent as the first host, trusted
 * to pull and resolve tags, with a short dial timeout so that a node whose agent is down
 * falls through to the upstream quickly.
 *
 * The agent serves the standard `/v2/` root, so `override_path` stays at its default
 * (false). containerd adds `?ns=<registry>` to every request it sends to a mirror host,
 * which is how the agent learns which registry a repository belongs to.
 */
import { SetupUsageError } from './errors.js';

/** The first line of every file we write: it marks the file as ours for `--remove`. */
export const HOSTS_TOML_MARKER =
  '# Managed by `kraken agent setup-containerd`; `--remove` restores the previous file.';

/** containerd's `_default` namespace: used for every registry without a directory of its own. */
export const DEFAULT_REGISTRY = '_default';

/** Long enough for a loaded localhost, short enough that a dead agent costs little. */
export const MIRROR_DIAL_TIMEOUT = '500ms';

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const REGISTRY_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*(?::(\\d{1,5}))?$`);
const LOCALHOST = /^(?:localhost|127(?:\.\d{1,3}){3})(?::\d+)?$/;

/** A registry host (`docker.io`, `localhost:5000`) or `_default`; never anything that leaves config_path. */
export function validateRegistryName(name: string): string {
  if (name === DEFAULT_REGISTRY) return name;
  const match = REGISTRY_NAME.exec(name);
  const port = match?.[1];
  if (!match || name.length > 253 || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
    throw new SetupUsageError(
      `invalid registry name ${JSON.stringify(name)}: want a host[:port] or ${DEFAULT_REGISTRY}`,
    );
  }
  return name;
}

/** The mirror as a host key: an http(s) URL without credentials, query or fragment, no trailing slash. */
export function validateMirrorUrl(raw: string, what = '--mirror'): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SetupUsageError(`invalid ${what} ${JSON.stringify(raw)}: not a URL`);
  }
  if (url.username !== '' || url.password !== '') {
    // Never echo credentials back, not even in an error.
    throw new SetupUsageError(
      `invalid ${what} ${url.protocol}//…@${url.host}: credentials do not belong in a URL here`,
    );
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    throw new SetupUsageError(
      `invalid ${what} ${JSON.stringify(raw)}: want http(s)://host[:port] without credentials or query`,
    );
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * The upstream containerd derives for a registry when no `server` is set, written out so
 * the file reads plainly: Docker Hub's API host, plain http for localhost (as containerd
 * does), https otherwise, and nothing for `_default` (containerd uses the pulled host).
 */
export function upstreamServer(registry: string): string | undefined {
  if (registry === DEFAULT_REGISTRY) return undefined;
  if (registry === 'docker.io') return 'https://registry-1.docker.io';
  return `${LOCALHOST.test(registry) ? 'http' : 'https'}://${registry}`;
}

export interface HostsTomlOptions {
  readonly registry: string;
  /** A URL already checked by validateMirrorUrl. */
  readonly mirror: string;
  /** The registry's own address, when not the one containerd derives (a private mirror of it, say). */
  readonly server?: string | undefined;
}

export function renderHostsToml({ registry, mirror, server: given }: HostsTomlOptions): string {
  const server = given ?? upstreamServer(registry);
  const lines = [HOSTS_TOML_MARKER];
  if (server !== undefined) lines.push(`server = ${tomlString(server)}`);
  lines.push(
    '',
    `[host.${tomlString(mirror)}]`,
    `  capabilities = ["pull", "resolve"]`,
    `  dial_timeout = ${tomlString(MIRROR_DIAL_TIMEOUT)}`,
    '',
  );
  return lines.join('\n');
}

export function isOurHostsToml(content: string): boolean {
  return content.startsWith(`${HOSTS_TOML_MARKER}\n`);
}

/** A TOML basic string: quote, backslash and every control character (DEL included) escaped. */
export function tomlString(value: string): string {
  const escaped = value.replace(/["\\]|[^\x20-\x7e\u0080-\uffff]/g, (c) =>
    c === '"' || c === '\\' ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `"${escaped}"`;
}
