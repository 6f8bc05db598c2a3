/**
 * Ring members: how an address ("host:port", "[v6]:port" or a URL) becomes a node
 * with a canonical id and a base URL. The id is what the ring hashes, so every
 * client must derive the same id for the same member: hosts are lowercased, IPv6
 * addresses compressed by the WHATWG URL parser, and the scheme is left out (moving
 * a cluster to TLS must not reshuffle every key).
 */
import { isIP } from 'node:net';
import { InvalidRingMemberError } from './errors.js';

export type RingScheme = 'http' | 'https';

export interface RingNode {
  /** Canonical `host:port`, with IPv6 hosts in brackets: `[::1]:15002`. */
  readonly id: string;
  /** Host without brackets: a DNS name, an IPv4 or an IPv6 address. */
  readonly host: string;
  readonly port: number;
  /** Base URL without a trailing slash: `http://[::1]:15002`. */
  readonly url: string;
  /** Relative share of keys; 0 keeps the node as a last resort only. */
  readonly weight: number;
}

export interface RingNodeInit {
  readonly host: string;
  readonly port: number;
  readonly scheme?: RingScheme;
  readonly weight?: number;
}

/** `host:port`, bracketing IPv6 literals as URLs and HTTP Host headers require. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Builds a node from parts, normalizing the host so equal members get equal ids. */
export function createRingNode(init: RingNodeInit): RingNode {
  const scheme = init.scheme ?? 'http';
  const weight = init.weight ?? 1;
  if (!Number.isFinite(weight) || weight < 0) {
    throw new InvalidRingMemberError(`ring member weight must be a finite number >= 0, got ${weight}`);
  }
  if (!Number.isInteger(init.port) || init.port < 1 || init.port > 65535) {
    throw new InvalidRingMemberError(`ring member port must be 1-65535, got ${init.port}`);
  }
  const raw = init.host.endsWith('.') ? init.host.slice(0, -1) : init.host;
  const literal = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  const bracketed = isIP(literal) === 6 ? `[${literal}]` : literal;
  let url: URL;
  try {
    url = new URL(`${scheme}://${bracketed}:${init.port}`);
  } catch (cause) {
    throw new InvalidRingMemberError(`ring member host "${init.host}" is not a valid host`, { cause });
  }
  if (url.hostname === '' || url.pathname !== '/' || url.username !== '' || url.password !== '') {
    throw new InvalidRingMemberError(`ring member host "${init.host}" is not a valid host`);
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const id = formatHostPort(host, init.port);
  return { id, host, port: init.port, url: `${scheme}://${id}`, weight };
}

/**
 * Parses a configured address: `host:port`, `[v6]:port` or `http(s)://host[:port]`.
 * A bare address needs a port; a URL falls back to its scheme's default port.
 */
export function parseRingNode(
  address: string,
  options: { scheme?: RingScheme; weight?: number } = {},
): RingNode {
  const input = address.trim();
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(input);
  let url: URL;
  try {
    url = new URL(hasScheme ? input : `${options.scheme ?? 'http'}://${input}`);
  } catch (cause) {
    throw new InvalidRingMemberError(`ring member "${address}" is not host:port or a URL`, { cause });
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme !== 'http' && scheme !== 'https') {
    throw new InvalidRingMemberError(`ring member "${address}" must use http or https`);
  }
  if (
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== ''
  ) {
    throw new InvalidRingMemberError(`ring member "${address}" must not carry a path, query or credentials`);
  }
  if (!hasScheme && url.port === '' && !/:\d+$/.test(input)) {
    throw new InvalidRingMemberError(`ring member "${address}" needs a port (host:port)`);
  }
  const port = url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port);
  return createRingNode({ host: url.hostname, port, scheme, weight: options.weight });
}
