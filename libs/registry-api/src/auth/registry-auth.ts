/**
 * Authentication and authorization of registry requests, from the auth config: who is
 * calling (htpasswd Basic auth, a Bearer token, or nobody), then whether the rules (and
 * the token's own `access` claim) allow what the request needs. Its `authorize` is the
 * registry API plugin's hook. Secrets go nowhere: logs name users and reasons only.
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import type { FastifyRequest } from 'fastify';
import { systemClock, type Timers } from '@kraken/foundation';
import { silentLogger, type Logger, type Metrics } from '@kraken/service-kit';
import { DeniedError, UnauthorizedError } from '../errors.js';
import { compileAccessRules, type RulePrincipal } from './access-rules.js';
import { challengeFor, parseAuthorization, type ChallengeConfig } from './auth-challenge.js';
import type { RegistryAuthConfig } from './auth-config.js';
import { parseGroupFile, parseHtpasswd } from './htpasswd-file.js';
import { createPasswordVerifier, type PasswordVerifier } from './password-verifier.js';
import type { RegistryAccess, RegistryAuthorizer } from './registry-access.js';
import {
  createTokenVerifier,
  parsePublicKey,
  type TokenAccess,
  type TokenVerifier,
} from './token-verifier.js';
import { createWatchedFile, type WatchedFile } from './watched-file.js';

export interface RegistryAuth {
  /** The registry API plugin's `authorize` option. */
  readonly authorize: RegistryAuthorizer;
  /** Reads the htpasswd, groups and key files (throwing AuthConfigError, naming file and line) and watches them. */
  start(): Promise<void>;
  close(): void;
}

export interface RegistryAuthDeps {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly timers?: Timers;
  /** Wall time, epoch milliseconds (token expiry, the credentials cache). */
  readonly now?: () => number;
  readonly readFile?: (path: string) => Promise<string>;
}

type Principal =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'user'; readonly name: string; readonly groups: ReadonlySet<string> }
  | {
      readonly kind: 'token';
      readonly name: string;
      readonly groups: ReadonlySet<string>;
      readonly access: readonly TokenAccess[];
    };

type Scheme = 'anonymous' | 'basic' | 'bearer' | 'unsupported';

type Authentication =
  | { readonly ok: true; readonly principal: Principal; readonly scheme: Scheme }
  | { readonly ok: false; readonly scheme: Scheme; readonly message: string; readonly invalidToken: boolean };

const ANONYMOUS: Principal = { kind: 'anonymous' };
const NO_GROUPS: ReadonlySet<string> = new Set();
const ANONYMOUS_RULE_PRINCIPAL: RulePrincipal = { name: undefined, groups: NO_GROUPS };

/** The auth of `config`, or undefined when it is off (neither htpasswd nor token is set). */
export function createRegistryAuth(
  config: RegistryAuthConfig,
  deps: RegistryAuthDeps = {},
): RegistryAuth | undefined {
  const { htpasswd, token } = config;
  if (htpasswd === undefined && token === undefined) return undefined;
  const logger = deps.logger ?? silentLogger();
  const now = deps.now ?? Date.now;
  const metrics = authMetrics(deps.metrics);
  const watch = <T>(path: string, parse: (text: string, path: string) => T): WatchedFile<T> =>
    createWatchedFile({
      path,
      parse,
      intervalMs: config.reloadIntervalSeconds * 1000,
      timers: deps.timers ?? systemClock,
      readFile: deps.readFile ?? ((file) => fsReadFile(file, 'utf8')),
      onReload: (file, err) => {
        metrics.reload(err === undefined ? 'ok' : 'failed');
        if (err === undefined) logger.info({ file }, 'auth file reloaded');
        else logger.warn({ err, file }, 'auth file not reloaded; the previous contents stay in use');
      },
    });

  const users = htpasswd === undefined ? undefined : watch(htpasswd.file, parseHtpasswd);
  const groups = htpasswd?.groupsFile === undefined ? undefined : watch(htpasswd.groupsFile, parseGroupFile);
  const publicKey =
    token?.publicKeyFile === undefined ? undefined : watch(token.publicKeyFile, parsePublicKey);
  const files = [users, groups, publicKey].filter((file) => file !== undefined);

  const passwords: PasswordVerifier | undefined =
    users === undefined || htpasswd === undefined
      ? undefined
      : createPasswordVerifier({
          users: () => users.current(),
          cacheMs: htpasswd.cacheSeconds * 1000,
          cacheEntries: htpasswd.cacheEntries,
          now,
        });
  const tokens: TokenVerifier | undefined =
    token === undefined
      ? undefined
      : createTokenVerifier({
          issuer: token.issuer,
          service: token.service,
          keys:
            publicKey === undefined
              ? { jwksUrl: token.jwksUrl ?? '' }
              : { publicKey: () => publicKey.current() },
          groupsClaim: token.groupsClaim,
          leewaySeconds: token.leewaySeconds,
          now,
        });
  const rules = compileAccessRules(config.rules, config.anonymousPull);
  // One challenge: clients follow the first they understand, and with a token service
  // that is where credentials belong. Basic credentials are still accepted when sent.
  const challenge: ChallengeConfig =
    token === undefined
      ? { scheme: 'basic', realm: htpasswd?.realm ?? 'kraken' }
      : { scheme: 'bearer', realm: token.realm, service: token.service };
  // A request may be authorized twice (a mount checks its source): authenticate once.
  const authentications = new WeakMap<FastifyRequest, Promise<Authentication>>();

  async function authenticate(request: FastifyRequest): Promise<Authentication> {
    const credentials = parseAuthorization(request.headers.authorization);
    switch (credentials.scheme) {
      case 'none':
        return { ok: true, principal: ANONYMOUS, scheme: 'anonymous' };
      case 'basic': {
        const { username, password } = credentials;
        if (passwords === undefined || !(await passwords.verify(username, password))) {
          logger.debug({ user: username.slice(0, 64) }, 'basic credentials refused');
          return { ok: false, scheme: 'basic', message: 'invalid username or password', invalidToken: false };
        }
        const of = groups?.current().get(username) ?? NO_GROUPS;
        return { ok: true, principal: { kind: 'user', name: username, groups: of }, scheme: 'basic' };
      }
      case 'bearer': {
        if (tokens === undefined) {
          return {
            ok: false,
            scheme: 'bearer',
            message: 'bearer tokens are not accepted here',
            invalidToken: true,
          };
        }
        const check = await tokens.verify(credentials.token);
        if (!check.ok) {
          logger.debug({ reason: check.reason }, 'bearer token refused');
          return {
            ok: false,
            scheme: 'bearer',
            message: `invalid token: ${check.reason}`,
            invalidToken: true,
          };
        }
        const { subject, groups: claimed, access } = check.token;
        const principal: Principal = { kind: 'token', name: subject, groups: new Set(claimed), access };
        return { ok: true, principal, scheme: 'bearer' };
      }
      case 'unsupported':
        return {
          ok: false,
          scheme: 'unsupported',
          message: 'unsupported authorization scheme',
          invalidToken: false,
        };
    }
  }

  function allowed(principal: Principal, access: RegistryAccess): boolean {
    if (access.kind === 'base') return principal.kind !== 'anonymous';
    const who: RulePrincipal = principal.kind === 'anonymous' ? ANONYMOUS_RULE_PRINCIPAL : principal;
    // What the rules give this principal; a token must grant it as well. What anonymous
    // callers may do needs no grant from anyone.
    const tokenAllows = (type: string, name: string, action: string) =>
      principal.kind !== 'token' || tokenGrants(principal.access, type, name, action);
    if (access.kind === 'catalog') {
      return (
        rules.mayListCatalog(ANONYMOUS_RULE_PRINCIPAL) ||
        (rules.mayListCatalog(who) && tokenAllows('registry', 'catalog', '*'))
      );
    }
    return access.repositories.every(({ repo, actions }) => {
      const anonymous = rules.granted(ANONYMOUS_RULE_PRINCIPAL, repo, actions);
      const granted = rules.granted(who, repo, actions);
      return actions.every(
        (action) => anonymous.has(action) || (granted.has(action) && tokenAllows('repository', repo, action)),
      );
    });
  }

  return {
    async authorize(request, access) {
      let pending = authentications.get(request);
      if (pending === undefined) {
        pending = authenticate(request);
        authentications.set(request, pending);
      }
      const authentication = await pending;
      if (!authentication.ok) {
        metrics.decision(authentication.scheme, 'unauthorized');
        throw new UnauthorizedError(
          authentication.message,
          challengeFor(challenge, access, authentication.invalidToken),
        );
      }
      const { principal, scheme } = authentication;
      if (allowed(principal, access)) {
        metrics.decision(scheme, 'ok');
        return;
      }
      if (principal.kind === 'anonymous') {
        metrics.decision(scheme, 'unauthorized');
        throw new UnauthorizedError('authentication required', challengeFor(challenge, access));
      }
      metrics.decision(scheme, 'denied');
      logger.debug({ user: principal.name, access }, 'access denied');
      throw new DeniedError(deniedMessage(access));
    },
    async start() {
      for (const file of files) await file.start();
    },
    close() {
      for (const file of files) file.close();
    },
  };
}

function tokenGrants(access: readonly TokenAccess[], type: string, name: string, action: string): boolean {
  return access.some(
    (entry) =>
      entry.type === type && entry.name === name && (entry.actions.has(action) || entry.actions.has('*')),
  );
}

function deniedMessage(access: RegistryAccess): string {
  if (access.kind !== 'repositories') return 'requested access to the resource is denied';
  const what = access.repositories.map(({ repo, actions }) => `${actions.join(',')} on ${repo}`).join(', ');
  return `requested access (${what}) is denied`;
}

interface AuthMetrics {
  decision(scheme: Scheme, result: 'ok' | 'unauthorized' | 'denied'): void;
  reload(result: 'ok' | 'failed'): void;
}

function authMetrics(metrics: Metrics | undefined): AuthMetrics {
  if (metrics === undefined) return { decision() {}, reload() {} };
  const decisions = counter(
    metrics,
    'registry_auth_decisions_total',
    'Authorization decisions of registry requests by credential scheme and result.',
    ['scheme', 'result'],
  );
  const reloads = counter(
    metrics,
    'registry_auth_reloads_total',
    'Reloads of changed auth files by result.',
    ['result'],
  );
  return {
    decision: (scheme, result) => decisions.inc({ scheme, result }),
    reload: (result) => reloads.inc({ result }),
  };
}

/** Apps may create more than one auth on one Metrics (e.g. tests): reuse counters. */
function counter(metrics: Metrics, name: string, help: string, labels: readonly string[]) {
  const existing = metrics.registry.getSingleMetric(metrics.prefix + name);
  return (existing as ReturnType<Metrics['counter']> | undefined) ?? metrics.counter(name, help, labels);
}
