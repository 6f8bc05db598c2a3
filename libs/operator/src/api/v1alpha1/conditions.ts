/**
 * Status conditions in the shape of metav1.Condition, the condition types both kinds
 * report (Ready, Progressing, Degraded) and their reasons, as constants that
 * controllers set and tests and users match on. Setting one (keeping its
 * `lastTransitionTime` while the status holds) is the controller runtime's
 * `setCondition`.
 */
import { z } from 'zod';

export const CONDITION_TYPES = {
  Ready: 'Ready',
  Progressing: 'Progressing',
  Degraded: 'Degraded',
} as const;
export type ConditionType = (typeof CONDITION_TYPES)[keyof typeof CONDITION_TYPES];

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** Reasons of a KrakenCluster's conditions. */
export const KRAKEN_CLUSTER_REASONS = {
  /** Ready True: every component has its desired pods ready. */
  AllComponentsReady: 'AllComponentsReady',
  /** Ready False: some component has fewer ready pods than desired. */
  ComponentsNotReady: 'ComponentsNotReady',
  /** Progressing True: a rollout of a changed spec or config is under way. */
  RollingOut: 'RollingOut',
  /** Progressing False: the objects match the spec and every rollout is done. */
  RolloutComplete: 'RolloutComplete',
  /** Degraded True: the spec fails validation; the message names the field. */
  InvalidSpec: 'InvalidSpec',
  /** Degraded True: a Secret or Secret key the spec refers to is missing; the message names the field. */
  SecretMissing: 'SecretMissing',
  /** Degraded True: applying an object failed. */
  ApplyFailed: 'ApplyFailed',
  /** Degraded False. */
  AsExpected: 'AsExpected',
} as const;

/** Reasons of a ReplicationRule's conditions. */
export const REPLICATION_RULE_REASONS = {
  /** Ready True: the build-index applies the rule and nothing failed. */
  Replicating: 'Replicating',
  /** Ready False: the build-index does not list the rule (yet). */
  RuleNotApplied: 'RuleNotApplied',
  /** Ready False: the rule is disabled. */
  RuleDisabled: 'RuleDisabled',
  /** Progressing True: changes wait in the queue. */
  Backlog: 'Backlog',
  /** Progressing False: every change is replicated. */
  UpToDate: 'UpToDate',
  /** Degraded True: tasks failed and wait for their retry; the message is the last error. */
  ReplicationFailing: 'ReplicationFailing',
  /** Degraded True: the spec fails validation; the message names the field. */
  InvalidSpec: 'InvalidSpec',
  /** Degraded True: the source KrakenCluster does not exist. */
  SourceClusterNotFound: 'SourceClusterNotFound',
  /** Degraded True: the destination KrakenCluster does not exist. */
  DestinationClusterNotFound: 'DestinationClusterNotFound',
  /** Degraded True: the source build-index could not be reached to apply the rule. */
  BuildIndexUnreachable: 'BuildIndexUnreachable',
  /** Degraded False. */
  AsExpected: 'AsExpected',
} as const;

const REASON = '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$';
const CONDITION_TYPE =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$';

export const conditionSchema = z
  .object({
    type: z
      .string()
      .max(316)
      .regex(new RegExp(CONDITION_TYPE))
      .describe('Type of the condition (Ready, Progressing, Degraded).'),
    status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition.'),
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('The .metadata.generation the condition was set for.'),
    lastTransitionTime: z
      .string()
      .meta({ format: 'date-time' })
      .describe('When the status last changed (RFC 3339).'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(new RegExp(REASON))
      .describe('Machine-readable CamelCase reason.'),
    message: z.string().max(32768).describe('Human-readable details.'),
  })
  .strict()
  .describe('A condition of the resource, as metav1.Condition.');

export type Condition = z.output<typeof conditionSchema>;

export const conditionsSchema = z
  .array(conditionSchema)
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
  .default([])
  .describe('The latest observations of the resource’s state, one per type.');
