/**
 * Registry authentication as docker clients do it. A request goes out anonymously
 * until the registry answers 401 with a challenge:
 * - `Basic`: the configured username/password are sent from then on;
 * - `Bearer realm=...,service=...,scope=...`: a token is fetched from the realm (GET
 *   with `service` and `scope`, the configured credentials as basic auth, none for
 *   anonymous pulls), cached per scope until `expires_in`, and sent as `Bearer`.
 * Once the challenge is known, tokens for new scopes are fetched up front instead of
 * after another 401. A 401 on a cached token gets exactly one fresh token.
 */
import { z } from 'zod';
import { RegistryAuthError, UpstreamResponseError } from '../../errors.js';
import { readBoundedBody, redact, type HttpTransport } from '../http/http-transport.js';

export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses one `WWW-Authenticate` challenge: a scheme, then `key=value` or `key="value"` pairs. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  const match = header === undefined ? null : /^\s*([A-Za-z][A-Za-z0-9_-]*)\s*(.*)$/s.exec(header);
  if (match === null) return undefined;
  const params: Record<string, string> = {};
  for (const p of (match[2] ?? '').matchAll(
    /([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))/g,
  )) {
    const key = (p[1] ?? '').toLowerCase();
    params[key] = p[2] === undefined ? (p[3] ?? '') : p[2].replace(/\\(.)/g, '$1');
  }
  return { scheme: (match[1] ?? '').toLowerCase(), params };
}

const tokenResponseSchema = z.object({
  token: z.string().min(1).optional(),
  access_token: z.string().min(1).optional(),
  expires_in: z.number().positive().optional(),
});

/** The token spec's default lifetime when `expires_in` is absent. */
const DEFAULT_TOKEN_SECONDS = 60;
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
const MAX_CACHED_TOKENS = 256;

export interface RegistryAuth {
  /** The Authorization header to send for `scope` when it is already known. */
  authorization(scope: string | undefined, signal?: AbortSignal): Promise<string | undefined>;
  /**
   * Answers a 401's challenge with credentials for `scope` other than `sent` (what the
   * refused request carried), or RegistryAuthError.
   */
  respond(challenge: {
    scope: string | undefined;
    wwwAuthenticate: string | undefined;
    sent: string | undefined;
    signal?: AbortSignal | undefined;
  }): Promise<string>;
}

export interface RegistryAuthOptions {
  readonly backend: string;
  readonly transport: HttpTransport;
  readonly credentials?: RegistryCredentials;
  /** Milliseconds, for token expiry. */
  readonly now: () => number;
}

export function createRegistryAuth(options: RegistryAuthOptions): RegistryAuth {
  const { backend, transport, credentials, now } = options;
  const basic =
    credentials === undefined
      ? undefined
      : `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  let mode:
    { kind: 'unknown' } | { kind: 'basic' } | { kind: 'bearer'; realm: URL; service: string | undefined } = {
    kind: 'unknown',
  };
  const tokens = new Map<string, { header: string; expiresAt: number }>();
  const inflight = new Map<string, Promise<string>>();

  async function fetchToken(
    realm: URL,
    service: string | undefined,
    scope: string | undefined,
    signal?: AbortSignal,
  ) {
    const url = new URL(realm);
    if (service !== undefined) url.searchParams.set('service', service);
    for (const s of scope?.split(' ').filter(Boolean) ?? []) url.searchParams.append('scope', s);
    const res = await transport.send({
      method: 'GET',
      url,
      headers: basic === undefined ? {} : { authorization: basic },
      ...(signal === undefined ? {} : { signal }),
    });
    if (res.status === 401 || res.status === 403) {
      await res.body.dump();
      throw new RegistryAuthError(
        backend,
        `token service ${redact(url)} refused the credentials (${res.status})`,
      );
    }
    if (res.status !== 200) {
      await res.body.dump();
      throw new UpstreamResponseError(backend, `token service ${redact(url)} answered ${res.status}`, {
        status: res.status,
      });
    }
    const parsed = tokenResponseSchema.safeParse(
      parseJson(await readBoundedBody(res.body, MAX_TOKEN_RESPONSE_BYTES)),
    );
    const token = parsed.success ? (parsed.data.token ?? parsed.data.access_token) : undefined;
    if (!parsed.success || token === undefined)
      throw new RegistryAuthError(backend, `token service ${redact(url)} returned no token`);
    const seconds = parsed.data.expires_in ?? DEFAULT_TOKEN_SECONDS;
    // Renew a little early, so a token does not expire between check and use.
    const expiresAt = now() + (seconds - Math.min(10, seconds / 2)) * 1000;
    return { header: `Bearer ${token}`, expiresAt };
  }

  function bearer(
    scope: string | undefined,
    requested: string | undefined,
    signal?: AbortSignal,
  ): Promise<string> {
    if (mode.kind !== 'bearer') throw new Error('unreachable: bearer without a challenge');
    const { realm, service } = mode;
    const cacheKey = scope ?? '';
    let pending = inflight.get(cacheKey);
    if (pending === undefined) {
      pending = fetchToken(realm, service, requested, signal)
        .then((t) => {
          tokens.delete(cacheKey);
          tokens.set(cacheKey, t);
          // Oldest first in a Map: evict it to keep the cache bounded.
          if (tokens.size > MAX_CACHED_TOKENS) tokens.delete(tokens.keys().next().value ?? '');
          return t.header;
        })
        .finally(() => inflight.delete(cacheKey));
      inflight.set(cacheKey, pending);
    }
    return pending;
  }

  return {
    async authorization(scope, signal) {
      if (mode.kind === 'basic') return basic;
      if (mode.kind !== 'bearer') return undefined;
      const cached = tokens.get(scope ?? '');
      if (cached !== undefined && cached.expiresAt > now()) return cached.header;
      return bearer(scope, scope, signal);
    },

    async respond({ scope, wwwAuthenticate, sent, signal }) {
      const challenge = parseChallenge(wwwAuthenticate);
      if (challenge?.scheme === 'basic') {
        if (basic === undefined)
          throw new RegistryAuthError(
            backend,
            'the registry wants basic credentials and none are configured',
          );
        // Judged by what the refused request carried: concurrent first requests all
        // went out anonymously, and each deserves its one try with the credentials.
        if (sent === basic)
          throw new RegistryAuthError(backend, 'the registry refused the basic credentials');
        mode = { kind: 'basic' };
        return basic;
      }
      if (challenge?.scheme === 'bearer') {
        const realm = challenge.params['realm'];
        let realmUrl: URL | undefined;
        try {
          realmUrl = realm === undefined ? undefined : new URL(realm);
        } catch {
          realmUrl = undefined;
        }
        if (realmUrl === undefined || (realmUrl.protocol !== 'https:' && realmUrl.protocol !== 'http:'))
          throw new RegistryAuthError(
            backend,
            `bearer challenge with unusable realm ${JSON.stringify(realm ?? null)}`,
          );
        mode = { kind: 'bearer', realm: realmUrl, service: challenge.params['service'] };
        // A concurrent request may already have replaced the refused token.
        const cached = tokens.get(scope ?? '');
        if (cached !== undefined && cached.header !== sent && cached.expiresAt > now()) return cached.header;
        tokens.delete(scope ?? '');
        return bearer(scope, challenge.params['scope'] ?? scope, signal);
      }
      throw new RegistryAuthError(
        backend,
        wwwAuthenticate === undefined
          ? 'the registry answered 401 without a challenge'
          : `unsupported challenge "${wwwAuthenticate.slice(0, 100)}"`,
      );
    },
  };
}

function parseJson(bytes: Buffer | undefined): unknown {
  try {
    return bytes === undefined ? undefined : (JSON.parse(bytes.toString('utf8')) as unknown);
  } catch {
    return undefined;
  }
}
