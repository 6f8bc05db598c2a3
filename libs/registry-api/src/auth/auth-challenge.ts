/**
 * The HTTP side of authentication: reading the `Authorization` header, and the
 * `WWW-Authenticate` challenge of a 401, which tells a client how to authenticate. With
 * a token service the challenge is the registry token flow's
 * `Bearer realm="...",service="...",scope="repository:<repo>:pull,push"`: the client
 * asks the realm for a token of that scope, with its own credentials, and retries.
 */
import type { RegistryAccess } from './registry-access.js';

export type Credentials =
  | { readonly scheme: 'none' }
  | { readonly scheme: 'basic'; readonly username: string; readonly password: string }
  | { readonly scheme: 'bearer'; readonly token: string }
  | { readonly scheme: 'unsupported' };

export function parseAuthorization(header: string | undefined): Credentials {
  if (header === undefined || header.trim() === '') return { scheme: 'none' };
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(header);
  if (match === null) return { scheme: 'unsupported' };
  const scheme = (match[1] ?? '').toLowerCase();
  const value = match[2] ?? '';
  if (scheme === 'bearer') return { scheme: 'bearer', token: value };
  if (scheme !== 'basic') return { scheme: 'unsupported' };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { scheme: 'unsupported' };
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  // Some clients (containers/image among them) answer a Basic challenge with empty
  // credentials when they have none: that is an anonymous request.
  if (username === '' && password === '') return { scheme: 'none' };
  return { scheme: 'basic', username, password };
}

export type ChallengeConfig =
  | { readonly scheme: 'basic'; readonly realm: string }
  | { readonly scheme: 'bearer'; readonly realm: string; readonly service: string };

/** The challenge of a 401 for `access`; `invalidToken` when the token sent was refused. */
export function challengeFor(config: ChallengeConfig, access: RegistryAccess, invalidToken = false): string {
  if (config.scheme === 'basic') return `Basic realm="${config.realm}",charset="UTF-8"`;
  const params = [`realm="${config.realm}"`, `service="${config.service}"`];
  const scope = scopeOf(access);
  if (scope !== undefined) params.push(`scope="${scope}"`);
  if (invalidToken) params.push('error="invalid_token"');
  return `Bearer ${params.join(',')}`;
}

/** The token scope `access` needs, as the token flow writes it; none for the base endpoint. */
export function scopeOf(access: RegistryAccess): string | undefined {
  switch (access.kind) {
    case 'base':
      return undefined;
    case 'catalog':
      return 'registry:catalog:*';
    case 'repositories':
      return access.repositories
        .map(({ repo, actions }) => `repository:${repo}:${actions.join(',')}`)
        .join(' ');
  }
}
