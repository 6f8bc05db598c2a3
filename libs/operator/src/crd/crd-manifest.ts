/**
 * The CustomResourceDefinitions of KrakenCluster and ReplicationRule, generated from
 * their zod schemas (api/v1alpha1): the spec and status schemas go through zod's JSON
 * Schema (service-kit's configJsonSchema, every `$ref` inlined, as OpenAPI 3.0) and
 * then structural-schema.ts. `npm run crds` writes them to deploy/crds/ with
 * crdYaml(); a test fails when the committed files are stale.
 */
import { stringify } from 'yaml';
import type { z } from 'zod';
import { configJsonSchema } from '@kraken/service-kit';
import {
  KRAKEN_GROUP,
  KRAKEN_VERSION,
  KRAKEN_CLUSTER_NAMES,
  REPLICATION_RULE_NAMES,
  type ResourceNames,
} from '../api/v1alpha1/group-version.js';
import { krakenClusterSpecSchema, krakenClusterStatusSchema } from '../api/v1alpha1/kraken-cluster-types.js';
import {
  replicationRuleSpecSchema,
  replicationRuleStatusSchema,
} from '../api/v1alpha1/replication-rule-types.js';
import { toStructuralSchema, type SchemaNode } from './structural-schema.js';

export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly jsonPath: string;
  readonly description?: string;
  readonly priority?: number;
}

/** An apiextensions.k8s.io/v1 CustomResourceDefinition, as plain data. */
export interface CustomResourceDefinition {
  readonly apiVersion: 'apiextensions.k8s.io/v1';
  readonly kind: 'CustomResourceDefinition';
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly spec: {
    readonly group: string;
    readonly names: Omit<ResourceNames, 'shortNames' | 'categories'> & {
      readonly shortNames: string[];
      readonly categories: string[];
    };
    readonly scope: 'Namespaced';
    readonly versions: ReadonlyArray<{
      readonly name: string;
      readonly served: boolean;
      readonly storage: boolean;
      readonly subresources: { readonly status: Record<string, never> };
      readonly additionalPrinterColumns: readonly PrinterColumn[];
      readonly schema: { readonly openAPIV3Schema: SchemaNode };
    }>;
  };
}

const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
const condition = (type: string, field: 'status' | 'reason' | 'message') =>
  `.status.conditions[?(@.type=="${type}")].${field}`;

/** A version's schema: the spec and status from zod, apiVersion, kind and metadata as every object has them. */
function resourceSchema(options: { description: string; spec: z.ZodType; status: z.ZodType }): SchemaNode {
  const structural = (schema: z.ZodType) =>
    toStructuralSchema(configJsonSchema(schema, { inline: true, target: 'openapi-3.0' }) as SchemaNode);
  return {
    type: 'object',
    description: options.description,
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion of the object (kraken.dev/v1alpha1).' },
      kind: { type: 'string', description: 'Kind of the object.' },
      metadata: { type: 'object' },
      spec: structural(options.spec),
      status: structural(options.status),
    },
    required: ['spec'],
  };
}

function definition(options: {
  names: ResourceNames;
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  columns: readonly PrinterColumn[];
}): CustomResourceDefinition {
  const { names } = options;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${names.plural}.${KRAKEN_GROUP}`,
      labels: { 'app.kubernetes.io/name': 'kraken', 'app.kubernetes.io/component': 'crd' },
    },
    spec: {
      group: KRAKEN_GROUP,
      names: {
        kind: names.kind,
        listKind: names.listKind,
        plural: names.plural,
        singular: names.singular,
        shortNames: [...names.shortNames],
        categories: [...names.categories],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: KRAKEN_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: options.columns,
          schema: { openAPIV3Schema: resourceSchema(options) },
        },
      ],
    },
  };
}

export function krakenClusterCrd(): CustomResourceDefinition {
  return definition({
    names: KRAKEN_CLUSTER_NAMES,
    description:
      'A Kraken cluster: origins, trackers, build-index, proxy and an agent on every node, reconciled by the Kraken operator.',
    spec: krakenClusterSpecSchema,
    status: krakenClusterStatusSchema,
    columns: [
      { name: 'Ready', type: 'string', jsonPath: condition('Ready', 'status') },
      {
        name: 'Origins',
        type: 'integer',
        jsonPath: '.status.origins.ready',
        description: 'Origin pods ready.',
      },
      { name: 'Agents', type: 'integer', jsonPath: '.status.agents.ready', description: 'Agent pods ready.' },
      { name: 'Reason', type: 'string', jsonPath: condition('Ready', 'reason'), priority: 1 },
      AGE,
    ],
  });
}

export function replicationRuleCrd(): CustomResourceDefinition {
  return definition({
    names: REPLICATION_RULE_NAMES,
    description:
      "A replication rule of a KrakenCluster's build-index: matching tags, with their content, go to another cluster.",
    spec: replicationRuleSpecSchema,
    status: replicationRuleStatusSchema,
    columns: [
      {
        name: 'Cluster',
        type: 'string',
        jsonPath: '.spec.cluster',
        description: 'The source KrakenCluster.',
      },
      { name: 'Ready', type: 'string', jsonPath: condition('Ready', 'status') },
      { name: 'Lag', type: 'integer', jsonPath: '.status.lagSeconds', description: 'Seconds behind.' },
      { name: 'Failed', type: 'integer', jsonPath: '.status.failed', description: 'Changes failing.' },
      AGE,
    ],
  });
}

/** Every CRD of the operator, in the order they are written. */
export function crdManifests(): CustomResourceDefinition[] {
  return [krakenClusterCrd(), replicationRuleCrd()];
}

/** The file a CRD is written to under deploy/crds/. */
export function crdFileName(crd: CustomResourceDefinition): string {
  return `${crd.metadata.name}.yaml`;
}

/** The CRD as the YAML file `npm run crds` writes. */
export function crdYaml(crd: CustomResourceDefinition): string {
  const header =
    '# Generated by `npm run crds` from the zod schemas in libs/operator/src/api/v1alpha1.\n' +
    '# Do not edit: change the schemas and run the command again.\n';
  return header + stringify(crd, { lineWidth: 0, singleQuote: true });
}
