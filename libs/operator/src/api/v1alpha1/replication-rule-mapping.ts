/**
 * A ReplicationRule to and from the source build-index's replication API: the body of
 * `PUT /v1/replication/rules/<name>` (the build-index's own rule schema, so the API
 * cannot refuse what this returns), and the rule's status from the nodes'
 * `GET /v1/replication/status` answers. Both pure: the controller does the I/O.
 *
 * The operator's rules are named `rr-<metadata.name>`, so that it can tell them from
 * rules made through the API by hand and delete only its own when their resource goes.
 */
import {
  replicationRuleSchema,
  type ReplicationRule as BuildIndexRule,
  type ReplicationStatus,
} from '@kraken/build-index';
import { InvalidSpecError } from '../../errors.js';
import { setCondition } from '../../runtime/conditions.js';
import { CONDITION_TYPES, REPLICATION_RULE_REASONS as REASONS, type Condition } from './conditions.js';
import { REPLICATION_RULE_KIND } from './group-version.js';
import {
  replicationRuleSpecSchema,
  type ReplicationRule,
  type ReplicationRuleSpec,
  type ReplicationRuleStatus,
} from './replication-rule-types.js';
import { parseSpec } from './spec-validation.js';

export const OPERATOR_RULE_PREFIX = 'rr-';
const RULE_NAME = /^[a-z0-9-]{1,63}$/;

/** The addresses of a destination cluster, as the build-index API takes them. */
export interface ReplicationEndpoints {
  readonly buildIndex: readonly string[];
  readonly origins: { readonly nodes: readonly string[]; readonly replicas: number };
}

/** The build-index rule name of a ReplicationRule. */
export function buildIndexRuleName(rule: Pick<ReplicationRule, 'metadata'>): string {
  const name = `${OPERATOR_RULE_PREFIX}${rule.metadata.name}`;
  if (!RULE_NAME.test(name))
    throw new InvalidSpecError(REPLICATION_RULE_KIND, [
      {
        field: 'metadata.name',
        message: `must be at most ${63 - OPERATOR_RULE_PREFIX.length} characters of [a-z0-9-] (the build-index names the rule ${OPERATOR_RULE_PREFIX}<name>)`,
      },
    ]);
  return name;
}

/** True for the name of a rule the operator made. */
export function isOperatorRuleName(name: string): boolean {
  return name.startsWith(OPERATOR_RULE_PREFIX);
}

/** The rule's spec with defaults applied, or InvalidSpecError naming each bad field. */
export function parseReplicationRuleSpec(rule: Pick<ReplicationRule, 'spec'>): ReplicationRuleSpec {
  return parseSpec(REPLICATION_RULE_KIND, replicationRuleSpecSchema, rule.spec);
}

/**
 * The body of `PUT /v1/replication/rules/<name>` for the rule. A destination
 * `cluster` needs `resolved`, its addresses (see clusterReplicationEndpoints); it must
 * not be the source cluster itself.
 */
export function toBuildIndexRule(rule: ReplicationRule, resolved?: ReplicationEndpoints): BuildIndexRule {
  const name = buildIndexRuleName(rule);
  const spec = parseReplicationRuleSpec(rule);
  const { cluster, discover, buildIndex, origins } = spec.destination;
  const fail = (field: string, message: string): never => {
    throw new InvalidSpecError(REPLICATION_RULE_KIND, [{ field, message }]);
  };
  let destination: BuildIndexRule['destination'];
  if (cluster !== undefined) {
    if (
      cluster.name === spec.cluster &&
      (cluster.namespace ?? rule.metadata.namespace) === rule.metadata.namespace
    )
      fail('spec.destination.cluster', 'is the source cluster');
    if (resolved === undefined)
      return fail('spec.destination.cluster', 'the addresses of the cluster are not known');
    destination = {
      buildIndex: [...resolved.buildIndex],
      origins: { nodes: [...resolved.origins.nodes], replicas: resolved.origins.replicas },
    };
  } else if (discover !== undefined) {
    destination = { discover };
  } else {
    destination = { buildIndex, origins };
  }
  const body = {
    name,
    repositories: spec.repositories,
    ...(spec.tags === undefined ? {} : { tags: spec.tags }),
    destination,
    deletes: spec.deletes,
    bandwidthBytesPerSecond: spec.bandwidthBytesPerSecond,
    enabled: spec.enabled,
  };
  const parsed = replicationRuleSchema.safeParse(body);
  if (!parsed.success)
    return fail('spec', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

export interface ReplicationRuleStatusInput {
  readonly rule: Pick<ReplicationRule, 'metadata' | 'status'> & {
    readonly spec: { readonly enabled?: boolean };
  };
  /** `GET /v1/replication/status` of every build-index node of the source cluster: each reports its own queue. */
  readonly nodes: readonly ReplicationStatus[];
  readonly now: Date;
}

/** The rule's status from the source build-index nodes' replication status. */
export function replicationRuleStatus(input: ReplicationRuleStatusInput): ReplicationRuleStatus {
  const { rule, now } = input;
  const name = buildIndexRuleName(rule);
  const generation = rule.metadata.generation;
  const observed = generation === undefined ? {} : { observedGeneration: generation };
  const entries = input.nodes.flatMap((node) => node.rules.filter((r) => r.rule === name));
  let conditions: Condition[] = [...(rule.status?.conditions ?? [])];
  const set = (type: string, status: 'True' | 'False', reason: string, message: string) => {
    conditions = setCondition(conditions, { type, status, reason, message, ...observed }, now);
  };

  if (entries.length === 0) {
    set(CONDITION_TYPES.Ready, 'False', REASONS.RuleNotApplied, `no build-index node lists rule ${name} yet`);
    set(
      CONDITION_TYPES.Progressing,
      'True',
      REASONS.RuleNotApplied,
      'waiting for the build-index to apply the rule',
    );
    set(CONDITION_TYPES.Degraded, 'False', REASONS.AsExpected, '');
    return { ...observed, conditions, pending: 0, inFlight: 0, failed: 0, lagSeconds: 0 };
  }

  const sum = (pick: (r: (typeof entries)[number]) => number) => entries.reduce((n, r) => n + pick(r), 0);
  const pending = sum((r) => r.pending);
  const inFlight = sum((r) => r.inFlight);
  const failed = sum((r) => r.failed);
  const lagSeconds = Math.ceil(Math.max(0, ...entries.map((r) => r.lagSeconds)));
  const lastError = entries
    .map((r) => r.lastError)
    .filter((e) => e !== null)
    .sort((a, b) => Date.parse(b.at) - Date.parse(a.at))[0];
  const destinationClusterId = entries.find((r) => r.destination.clusterId !== null)?.destination.clusterId;
  const enabled = entries.every((r) => r.enabled);

  if (!enabled) set(CONDITION_TYPES.Ready, 'False', REASONS.RuleDisabled, 'the rule is disabled');
  else if (failed > 0)
    set(
      CONDITION_TYPES.Ready,
      'False',
      REASONS.ReplicationFailing,
      `${failed} changes failed and wait for a retry`,
    );
  else
    set(CONDITION_TYPES.Ready, 'True', REASONS.Replicating, `applied by ${entries.length} build-index nodes`);
  if (pending + inFlight > 0)
    set(
      CONDITION_TYPES.Progressing,
      'True',
      REASONS.Backlog,
      `${pending + inFlight} changes to replicate, the oldest ${lagSeconds}s old`,
    );
  else set(CONDITION_TYPES.Progressing, 'False', REASONS.UpToDate, 'every change is replicated');
  if (failed > 0)
    set(
      CONDITION_TYPES.Degraded,
      'True',
      REASONS.ReplicationFailing,
      lastError === undefined
        ? `${failed} changes failed`
        : `${lastError.repository}:${lastError.tag}: ${lastError.message}`,
    );
  else set(CONDITION_TYPES.Degraded, 'False', REASONS.AsExpected, '');

  return {
    ...observed,
    conditions,
    pending,
    inFlight,
    failed,
    lagSeconds,
    ...(lastError === undefined ? {} : { lastError }),
    ...(destinationClusterId === undefined || destinationClusterId === null ? {} : { destinationClusterId }),
  };
}
