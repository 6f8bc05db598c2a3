import { describe, expect, it } from 'vitest';
import { compileAccessRules, type RulePrincipal } from './access-rules.js';
import { accessRuleSchema, registryAuthConfigSchema } from './auth-config.js';
import { compileRepositoryGlob, repositoryGlobSchema } from './repository-glob.js';

const user = (name: string, ...groups: string[]): RulePrincipal => ({ name, groups: new Set(groups) });
const anonymous: RulePrincipal = { name: undefined, groups: new Set() };
const rule = (input: unknown) => accessRuleSchema.parse(input);

describe('repository globs', () => {
  it.each([
    ['team/app', 'team/app', true],
    ['team/app', 'team/app2', false],
    ['team/*', 'team/app', true],
    ['team/*', 'team/app/web', false],
    ['team/*', 'other/team/app', false],
    ['team/**', 'team/app/web', true],
    ['team/**', 'team', false],
    ['**', 'any/thing/at/all', true],
    ['*/app', 'team/app', true],
    ['a.b/*', 'axb/c', false],
    ['team/*-web', 'team/shop-web', true],
  ])('%s on %s: %s', (glob, repo, matches) => {
    expect(compileRepositoryGlob(glob).test(repo)).toBe(matches);
  });

  it('refuses patterns that are not globs over repository names', () => {
    expect(repositoryGlobSchema.safeParse('team/(.*)').success).toBe(false);
    expect(repositoryGlobSchema.safeParse('Team/*').success).toBe(false);
    expect(repositoryGlobSchema.safeParse('team/***').success).toBe(false);
    expect(repositoryGlobSchema.safeParse('').success).toBe(false);
  });
});

describe('access rules', () => {
  const rules = compileAccessRules(
    [
      rule({ repositories: ['team/**'], users: ['alice'], actions: ['pull', 'push'] }),
      rule({ repositories: ['team/app'], groups: ['admins'], actions: ['delete'] }),
      rule({ repositories: ['shared/*'], users: ['*'], actions: ['pull'] }),
      rule({ repositories: ['**'], groups: ['auditors'], actions: ['pull'] }),
    ],
    ['public/**'],
  );

  it('grants the actions of every rule that names the user, one of their groups, or *', () => {
    expect(rules.granted(user('alice'), 'team/app', ['pull', 'push'])).toEqual(new Set(['pull', 'push']));
    expect(rules.granted(user('alice'), 'team/app', ['delete'])).toEqual(new Set());
    expect(rules.granted(user('alice', 'admins'), 'team/app', ['push', 'delete'])).toEqual(
      new Set(['push', 'delete']),
    );
    expect(rules.granted(user('bob'), 'team/app', ['pull'])).toEqual(new Set());
    expect(rules.granted(user('bob'), 'shared/base', ['pull', 'push'])).toEqual(new Set(['pull']));
    expect(rules.granted(user('bob'), 'shared/base/deeper', ['pull'])).toEqual(new Set());
  });

  it('gives anonymous pulls to everyone, and nothing else to anonymous callers', () => {
    expect(rules.granted(anonymous, 'public/tools/jq', ['pull'])).toEqual(new Set(['pull']));
    expect(rules.granted(anonymous, 'public/tools/jq', ['push'])).toEqual(new Set());
    expect(rules.granted(anonymous, 'shared/base', ['pull'])).toEqual(new Set());
    expect(rules.granted(user('bob'), 'public/x', ['pull'])).toEqual(new Set(['pull']));
  });

  it('lists the catalog to whoever may pull every repository', () => {
    expect(rules.mayListCatalog(user('carol', 'auditors'))).toBe(true);
    expect(rules.mayListCatalog(user('alice'))).toBe(false);
    expect(rules.mayListCatalog(anonymous)).toBe(false);
    expect(compileAccessRules([], ['**']).mayListCatalog(anonymous)).toBe(true);
  });
});

describe('auth config', () => {
  it('is off by default', () => {
    expect(registryAuthConfigSchema.parse(undefined)).toEqual({
      rules: [],
      anonymousPull: [],
      reloadIntervalSeconds: 10,
    });
  });

  it('wants exactly one source of token keys', () => {
    const token = { realm: 'https://auth.test/token', service: 'registry.test', issuer: 'https://auth.test' };
    expect(registryAuthConfigSchema.safeParse({ token }).success).toBe(false);
    expect(registryAuthConfigSchema.safeParse({ token: { ...token, publicKeyFile: '/k.pem' } }).success).toBe(
      true,
    );
    expect(
      registryAuthConfigSchema.safeParse({
        token: { ...token, publicKeyFile: '/k.pem', jwksUrl: 'https://auth.test/jwks' },
      }).success,
    ).toBe(false);
  });

  it('fetches keys over https only, except on loopback', () => {
    const token = { realm: 'https://auth.test/token', service: 'registry.test', issuer: 'https://auth.test' };
    const parse = (jwksUrl: string) =>
      registryAuthConfigSchema.safeParse({ token: { ...token, jwksUrl } }).success;
    expect(parse('http://auth.example.com/jwks')).toBe(false);
    expect(parse('http://127.0.0.1:8080/jwks')).toBe(true);
    expect(parse('https://auth.example.com/jwks')).toBe(true);
  });

  it('refuses rules without a way to authenticate, and rules that name nobody', () => {
    const rules = [{ repositories: ['**'], users: ['*'], actions: ['pull'] }];
    expect(registryAuthConfigSchema.safeParse({ rules }).success).toBe(false);
    expect(registryAuthConfigSchema.safeParse({ htpasswd: { file: '/h' }, rules }).success).toBe(true);
    expect(accessRuleSchema.safeParse({ repositories: ['**'], actions: ['pull'] }).success).toBe(false);
  });

  it('refuses challenge parameters that would break out of their quotes', () => {
    expect(registryAuthConfigSchema.safeParse({ htpasswd: { file: '/h', realm: 'a"b' } }).success).toBe(
      false,
    );
  });
});
