/**
 * A ReplicationRule's status when the operator could not hand the rule to the source
 * build-index (an invalid spec, a missing cluster, an unreachable build-index): Ready
 * False and Degraded True with the reason, the counters kept from the last status.
 * When the build-index runs the rule, its own status decides (replicationRuleStatus).
 */
import { CONDITION_TYPES } from '../api/v1alpha1/conditions.js';
import type { Condition } from '../api/v1alpha1/conditions.js';
import type { ReplicationRule, ReplicationRuleStatus } from '../api/v1alpha1/replication-rule-types.js';
import { setCondition } from '../runtime/conditions.js';

export function degradedRuleStatus(
  rule: Pick<ReplicationRule, 'metadata' | 'status'>,
  degraded: { readonly reason: string; readonly message: string },
  now: Date,
): ReplicationRuleStatus {
  const generation = rule.metadata.generation;
  const observed = generation === undefined ? {} : { observedGeneration: generation };
  let conditions: Condition[] = [...(rule.status?.conditions ?? [])];
  const set = (type: string, status: 'True' | 'False', message: string) => {
    conditions = setCondition(
      conditions,
      { type, status, reason: degraded.reason, message, ...observed },
      now,
    );
  };
  set(CONDITION_TYPES.Ready, 'False', degraded.message);
  set(CONDITION_TYPES.Progressing, 'False', '');
  set(CONDITION_TYPES.Degraded, 'True', degraded.message);
  const previous = rule.status;
  return {
    pending: 0,
    inFlight: 0,
    failed: 0,
    lagSeconds: 0,
    ...previous,
    ...observed,
    conditions,
  } as ReplicationRuleStatus;
}
