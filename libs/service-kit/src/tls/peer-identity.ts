/**
 * Who is on the other end of a request: the names of the client certificate the TLS
 * handshake verified against the configured client CA (its subject CN, DNS SANs and URI
 * SANs). A connection without a certificate, or with one that did not verify (allowed
 * by `clientAuth: optional`), has no identity. Read once per connection.
 */
import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';

export interface PeerIdentity {
  readonly commonName: string | undefined;
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
  /** CN, DNS SANs and URI SANs together, as identities are matched. */
  readonly names: readonly string[];
}

const identities = new WeakMap<TLSSocket, PeerIdentity | null>();

/** The verified client identity of a fastify request (or a raw Node request); undefined when none. */
export function peerIdentity(
  request: { readonly raw: IncomingMessage } | IncomingMessage,
): PeerIdentity | undefined {
  const socket = ('raw' in request ? request.raw : request).socket;
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  let identity = identities.get(socket);
  if (identity === undefined) {
    identity = identityOf(socket);
    identities.set(socket, identity);
  }
  return identity ?? undefined;
}

/** True when the identity has one of `allowed` among its names. */
export function identityMatches(identity: PeerIdentity | undefined, allowed: ReadonlySet<string>): boolean {
  return identity !== undefined && identity.names.some((name) => allowed.has(name));
}

function identityOf(socket: TLSSocket): PeerIdentity | null {
  const certificate = socket.getPeerCertificate();
  if (certificate === null || Object.keys(certificate).length === 0) return null;
  // A subject with several CNs gives an array.
  const cn = certificate.subject?.CN as string | string[] | undefined;
  const commonName = Array.isArray(cn) ? cn[0] : cn;
  const dnsNames: string[] = [];
  const uris: string[] = [];
  for (const [type, value] of parseSubjectAltName(certificate.subjectaltname ?? '')) {
    if (type === 'DNS') dnsNames.push(value);
    else if (type === 'URI') uris.push(value);
  }
  const names = [...(commonName === undefined ? [] : [commonName]), ...dnsNames, ...uris];
  return { commonName, dnsNames, uris, names };
}

/**
 * Node's `subjectaltname`: `DNS:a, URI:spiffe://b, IP Address:10.0.0.1`, where a value
 * holding a comma or a quote is written as a JSON string.
 */
export function parseSubjectAltName(text: string): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  let rest = text.trim();
  while (rest.length > 0) {
    const colon = rest.indexOf(':');
    if (colon < 0) break;
    const type = rest.slice(0, colon).trim();
    rest = rest.slice(colon + 1);
    let value: string;
    if (rest.startsWith('"')) {
      const end = closingQuote(rest);
      try {
        value = JSON.parse(rest.slice(0, end + 1)) as string;
      } catch {
        value = rest.slice(1, end);
      }
      rest = rest.slice(end + 1);
      const comma = rest.indexOf(',');
      rest = comma < 0 ? '' : rest.slice(comma + 1);
    } else {
      const comma = rest.indexOf(', ');
      value = comma < 0 ? rest : rest.slice(0, comma);
      rest = comma < 0 ? '' : rest.slice(comma + 2);
    }
    entries.push([type, value]);
    rest = rest.trimStart();
  }
  return entries;
}

function closingQuote(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return text.length - 1;
}
