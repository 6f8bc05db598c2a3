/**
 * The authorization rules, compiled once: which actions a principal (an authenticated
 * user with groups, or nobody) may take on a repository. Grants only ever add up; there
 * is no deny rule, so the order of rules does not matter.
 */
import type { AccessRule } from './auth-config.js';
import type { RegistryAction } from './registry-access.js';
import { compileRepositoryGlob, EVERY_REPOSITORY } from './repository-glob.js';

/** Who is asking; `undefined` name is an anonymous caller. */
export interface RulePrincipal {
  readonly name: string | undefined;
  readonly groups: ReadonlySet<string>;
}

export interface AccessRules {
  /** The actions of `wanted` the principal may take on `repo`. */
  granted(principal: RulePrincipal, repo: string, wanted: readonly RegistryAction[]): Set<RegistryAction>;
  /** The catalog names every repository: it is for those who may pull every repository. */
  mayListCatalog(principal: RulePrincipal): boolean;
}

interface CompiledRule {
  readonly patterns: readonly RegExp[];
  readonly everyRepository: boolean;
  readonly anyUser: boolean;
  readonly users: ReadonlySet<string>;
  readonly groups: readonly string[];
  readonly actions: ReadonlySet<RegistryAction>;
}

export function compileAccessRules(
  rules: readonly AccessRule[],
  anonymousPull: readonly string[] = [],
): AccessRules {
  const compiled = rules.map(compileRule);
  const anonymous =
    anonymousPull.length === 0
      ? undefined
      : compileRule({
          repositories: [...anonymousPull],
          users: ['*'],
          groups: [],
          actions: ['pull'],
        });

  const applies = (rule: CompiledRule, principal: RulePrincipal): boolean =>
    principal.name !== undefined &&
    (rule.anyUser || rule.users.has(principal.name) || rule.groups.some((g) => principal.groups.has(g)));
  // Anonymous grants hold for everyone: credentials never take away what no credentials give.
  const rulesFor = (principal: RulePrincipal): CompiledRule[] => [
    ...(anonymous === undefined ? [] : [anonymous]),
    ...compiled.filter((rule) => applies(rule, principal)),
  ];

  return {
    granted(principal, repo, wanted) {
      const granted = new Set<RegistryAction>();
      for (const rule of rulesFor(principal)) {
        if (!rule.patterns.some((pattern) => pattern.test(repo))) continue;
        for (const action of wanted) if (rule.actions.has(action)) granted.add(action);
        if (granted.size === wanted.length) break;
      }
      return granted;
    },
    mayListCatalog(principal) {
      return rulesFor(principal).some((rule) => rule.everyRepository && rule.actions.has('pull'));
    },
  };
}

function compileRule(rule: AccessRule): CompiledRule {
  return {
    patterns: rule.repositories.map(compileRepositoryGlob),
    everyRepository: rule.repositories.includes(EVERY_REPOSITORY),
    anyUser: rule.users.includes('*'),
    users: new Set(rule.users),
    groups: rule.groups,
    actions: new Set(rule.actions),
  };
}
