/**
 * Config of the registry's authentication and authorization, embedded by apps that
 * serve pushes (the proxy). Off unless `htpasswd` or `token` is set.
 */
import { z } from 'zod';
import { repositoryGlobSchema } from './repository-glob.js';

/** Challenge parameters are quoted strings: no quotes, backslashes or control characters. */
const quotable = (value: string) =>
  [...value].every((c) => c >= ' ' && c !== '\x7f' && c !== '"' && c !== '\\');
const QUOTABLE = 'must not contain quotes, backslashes or control characters';

const isLoopback = (host: string) =>
  host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

export const htpasswdAuthSchema = z
  .object({
    file: z
      .string()
      .min(1)
      .describe(
        'htpasswd file (`htpasswd -B`): one `user:hash` per line, bcrypt (`$2y$`, `$2b$`) only. A file with another kind of hash is refused, naming the line.',
      ),
    groupsFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Groups of the htpasswd users, for rules that name groups: one `group: user1 user2` per line.',
      ),
    realm: z
      .string()
      .min(1)
      .refine(quotable, QUOTABLE)
      .default('kraken')
      .describe('Realm of the Basic challenge (shown by some clients).'),
    cacheSeconds: z
      .number()
      .int()
      .nonnegative()
      .default(60)
      .describe(
        'How long a verified user and password is remembered (as a keyed hash, in memory), so that a push of many blobs costs one bcrypt check, not one per request. 0 checks every request.',
      ),
    cacheEntries: z
      .number()
      .int()
      .nonnegative()
      .default(1024)
      .describe('Verified credentials remembered at most; the oldest are forgotten first.'),
  })
  .strict();

export const tokenAuthSchema = z
  .object({
    realm: z
      .url({ protocol: /^https?$/ })
      .refine(quotable, QUOTABLE)
      .describe(
        'URL of the token service clients get tokens from (the `realm` of the Bearer challenge), e.g. https://auth.example.com/token.',
      ),
    service: z
      .string()
      .min(1)
      .refine(quotable, QUOTABLE)
      .describe(
        'Name of this registry at the token service: the `service` of the challenge, and the audience (`aud`) every token must carry.',
      ),
    issuer: z.string().min(1).describe('Issuer (`iss`) every token must carry.'),
    publicKeyFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        "PEM file with the issuer's public key (SPKI) or certificate; re-read when it changes. Set this or `jwksUrl`.",
      ),
    jwksUrl: z
      .url({ protocol: /^https?$/ })
      .refine(
        (url) => new URL(url).protocol === 'https:' || isLoopback(new URL(url).hostname),
        'must be https (http only on loopback): whoever can change the keys can mint tokens',
      )
      .optional()
      .describe(
        "URL of the issuer's JSON Web Key Set; keys are fetched when a token names one not yet known (and refreshed every 10 minutes). Set this or `publicKeyFile`.",
      ),
    groupsClaim: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Claim listing the groups of the token subject (an array of strings), for rules that name groups.',
      ),
    leewaySeconds: z
      .number()
      .int()
      .nonnegative()
      .default(30)
      .describe('Clock skew tolerated when checking `exp` and `nbf`.'),
  })
  .strict()
  .refine((token) => (token.publicKeyFile === undefined) !== (token.jwksUrl === undefined), {
    message: 'set exactly one of publicKeyFile and jwksUrl',
  });

export const accessRuleSchema = z
  .object({
    repositories: z
      .array(repositoryGlobSchema)
      .min(1)
      .describe('Repository globs the rule covers: `*` within one path component, `**` across components.'),
    users: z
      .array(z.string().min(1))
      .default([])
      .describe('User names (htpasswd users, or token subjects); `*` is any authenticated user.'),
    groups: z
      .array(z.string().min(1))
      .default([])
      .describe('Groups (from the groups file or the token claim).'),
    actions: z
      .array(z.enum(['pull', 'push', 'delete']))
      .min(1)
      .describe(
        'What the rule allows: `pull`, `push` (blob and manifest uploads), `delete` (manifests and tags).',
      ),
  })
  .strict()
  .refine((rule) => rule.users.length + rule.groups.length > 0, {
    message: 'a rule names at least one user or group',
  });

export const registryAuthConfigSchema = z
  .object({
    htpasswd: htpasswdAuthSchema
      .optional()
      .describe('Basic authentication against an htpasswd file (re-read when it changes).'),
    token: tokenAuthSchema
      .optional()
      .describe(
        'Bearer tokens of the registry token flow: clients get a JWT from `realm` and send it; it must be signed by the issuer, for this `service`, unexpired, and its `access` claim must list the repository and actions.',
      ),
    rules: z
      .array(accessRuleSchema)
      .default([])
      .describe(
        'Who may do what where. A request is allowed when a rule grants each of its actions on its repository to the user or one of their groups (and, with a token, the token grants them too); otherwise it gets 403 DENIED. The catalog is listed to whoever may pull `**`.',
      ),
    anonymousPull: z
      .array(repositoryGlobSchema)
      .default([])
      .describe('Repositories anyone may pull without credentials; `["**"]` for all of them.'),
    reloadIntervalSeconds: z
      .number()
      .int()
      .nonnegative()
      .default(10)
      .describe(
        'How often the htpasswd, groups and public key files are checked for changes; a file that fails to load keeps the previous contents in use. 0 reads them only at start.',
      ),
  })
  .strict()
  .prefault({})
  .refine(
    (auth) =>
      auth.htpasswd !== undefined ||
      auth.token !== undefined ||
      (auth.rules.length === 0 && auth.anonymousPull.length === 0),
    { message: 'rules and anonymousPull need htpasswd or token' },
  )
  .describe(
    'Authentication (htpasswd Basic auth, Bearer tokens) and per-repository authorization. Off unless `htpasswd` or `token` is set: then every request needs credentials, except pulls that `anonymousPull` allows.',
  );

export type RegistryAuthConfig = z.output<typeof registryAuthConfigSchema>;
export type HtpasswdAuthConfig = z.output<typeof htpasswdAuthSchema>;
export type TokenAuthConfig = z.output<typeof tokenAuthSchema>;
export type AccessRule = z.output<typeof accessRuleSchema>;
