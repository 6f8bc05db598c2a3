/**
 * The KrakenCluster resource (kraken.dev/v1alpha1): one Kraken cluster in a namespace.
 * The zod schemas below are the single source of its TypeScript types, of the CRD's
 * OpenAPI schema (crd/) and of the operator's validation: `KrakenClusterSpecInput` is
 * what a user writes, `KrakenClusterSpec` is the same with every default applied.
 */
import { z } from 'zod';
import { agentsSpecSchema } from './agent-spec.js';
import { buildIndexSpecSchema, originsSpecSchema, trackersSpecSchema } from './component-specs.js';
import { conditionsSchema } from './conditions.js';
import { imagePullSecretsSchema } from './core-types.js';
import type { KRAKEN_API_VERSION, KRAKEN_CLUSTER_KIND } from './group-version.js';
import { p2pSpecSchema } from './p2p-spec.js';
import { proxySpecSchema } from './proxy-spec.js';
import { storageSpecSchema } from './storage-spec.js';
import { tlsSpecSchema } from './tls-spec.js';

export const krakenClusterSpecSchema = z
  .object({
    image: z
      .string()
      .min(1)
      .describe(
        'The Kraken image every component runs (`<image> <component> --config <file>`), e.g. registry.example.com/kraken:0.1.0.',
      ),
    imagePullPolicy: z
      .enum(['Always', 'IfNotPresent', 'Never'])
      .default('IfNotPresent')
      .describe('When the kubelet pulls `image`.'),
    imagePullSecrets: imagePullSecretsSchema,
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
      .default('info')
      .describe('Log level of every component.'),
    storage: storageSpecSchema,
    origins: originsSpecSchema,
    trackers: trackersSpecSchema,
    buildIndex: buildIndexSpecSchema,
    proxy: proxySpecSchema,
    agents: agentsSpecSchema,
    p2p: p2pSpecSchema,
    tls: tlsSpecSchema.optional(),
  })
  .strict()
  .describe('The desired Kraken cluster.');

/** What a user writes: defaults optional. */
export type KrakenClusterSpecInput = z.input<typeof krakenClusterSpecSchema>;
/** The spec with every default applied. */
export type KrakenClusterSpec = z.output<typeof krakenClusterSpecSchema>;

export const componentReadinessSchema = z
  .object({
    ready: z.number().int().min(0).describe('Pods ready.'),
    desired: z.number().int().min(0).describe('Pods desired.'),
  })
  .strict();

export type ComponentReadiness = z.output<typeof componentReadinessSchema>;

export const krakenClusterStatusSchema = z
  .object({
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('The .metadata.generation the status was last written for.'),
    conditions: conditionsSchema,
    origins: componentReadinessSchema.optional().describe('Origin pods ready and desired.'),
    trackers: componentReadinessSchema.optional().describe('Tracker pods ready and desired.'),
    buildIndex: componentReadinessSchema.optional().describe('Build-index pods ready and desired.'),
    proxy: componentReadinessSchema.optional().describe('Proxy pods ready and desired.'),
    agents: componentReadinessSchema.optional().describe('Agent pods ready and desired (one per node).'),
  })
  .strict()
  .describe('The observed state of the cluster, written by the operator.');

export type KrakenClusterStatus = z.output<typeof krakenClusterStatusSchema>;

/** The metadata the operator reads of its resources. */
export interface ResourceMeta {
  readonly name: string;
  readonly namespace: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A KrakenCluster as the API server returns it; the spec is validated when rendered. */
export interface KrakenCluster {
  readonly apiVersion: typeof KRAKEN_API_VERSION;
  readonly kind: typeof KRAKEN_CLUSTER_KIND;
  readonly metadata: ResourceMeta;
  readonly spec: KrakenClusterSpecInput;
  readonly status?: KrakenClusterStatus;
}
