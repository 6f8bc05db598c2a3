/**
 * The rules API, `/v1/replication/rules`: list, create, read, replace and delete
 * replication rules at runtime (the operator drives it from `ReplicationRule`
 * resources). Bodies are validated by the same zod schema as the config file; a bad
 * regular expression or an unknown key is a 400 KRAKEN_INVALID_REPLICATION_RULE whose
 * message names the field. Rules from the config file are listed (`source: config`)
 * but replacing or deleting one is a 409 naming it.
 *
 *   GET    /v1/replication/rules          {rules: RuleView[]}
 *   POST   /v1/replication/rules          rule → 201 RuleView | 409 KRAKEN_REPLICATION_RULE_EXISTS
 *   GET    /v1/replication/rules/:name    RuleView | 404
 *   PUT    /v1/replication/rules/:name    rule → 200 (replaced) | 201 (created) RuleView | 409 (config rule)
 *   DELETE /v1/replication/rules/:name    204 | 404 | 409 (config rule)
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { installErrorHandler } from '@kraken/service-kit';
import { z } from 'zod';
import {
  InvalidReplicationRuleError,
  ReplicationRuleNotFoundError,
  ReplicationRuleProtectedError,
} from '../errors.js';
import { describeIssues, replicationRuleSchema, type ReplicationRule } from './rule-config.js';
import type { RuleStore } from './rule-store.js';

export const ruleNameParamsSchema = z.object({ name: z.string().describe('The rule name.') });

/** Validates a rule body; `name` comes from the path when the body leaves it out. */
export function parseRule(body: unknown, name?: string): ReplicationRule {
  const input =
    name !== undefined &&
    typeof body === 'object' &&
    body !== null &&
    !Array.isArray(body) &&
    !('name' in body)
      ? { ...body, name }
      : body;
  const parsed = replicationRuleSchema.safeParse(input);
  const issues = parsed.success ? [] : describeIssues(parsed.error.issues);
  if (parsed.success && name !== undefined && parsed.data.name !== name)
    issues.push({ path: 'name', message: `does not match the rule in the path (${name})` });
  if (issues.length > 0 || !parsed.success)
    throw new InvalidReplicationRuleError(
      `invalid replication rule: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  return parsed.data;
}

export function createRuleRoutes(options: { readonly rules: RuleStore }): FastifyPluginAsync {
  const { rules } = options;
  /** A config rule is refused before its body is even looked at. */
  const changeable = (name: string): void => {
    if (rules.get(name)?.source === 'config') throw new ReplicationRuleProtectedError(name);
  };
  return async function ruleRoutes(app: FastifyInstance) {
    installErrorHandler(app);

    app.get('/v1/replication/rules', async () => ({ rules: rules.list() }));

    app.post('/v1/replication/rules', async (request, reply) => {
      const created = await rules.create(parseRule(request.body));
      return reply.code(201).send(created);
    });

    app.get('/v1/replication/rules/:name', async (request) => {
      const { name } = ruleNameParamsSchema.parse(request.params);
      const rule = rules.get(name);
      if (rule === undefined) throw new ReplicationRuleNotFoundError(name);
      return rule;
    });

    app.put('/v1/replication/rules/:name', async (request, reply) => {
      const { name } = ruleNameParamsSchema.parse(request.params);
      changeable(name);
      const { rule, created } = await rules.replace(name, parseRule(request.body, name));
      return reply.code(created ? 201 : 200).send(rule);
    });

    app.delete('/v1/replication/rules/:name', async (request, reply) => {
      const { name } = ruleNameParamsSchema.parse(request.params);
      changeable(name);
      await rules.remove(name);
      return reply.code(204).send();
    });
  };
}
