import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { configJsonSchema, type JsonSchema } from '@kraken/service-kit';
import { krakenClusterSpecSchema, krakenClusterStatusSchema } from './kraken-cluster-types.js';
import { replicationRuleSpecSchema, replicationRuleStatusSchema } from './replication-rule-types.js';

/** Paths of properties without a description, through objects, arrays, maps and unions. */
function undescribed(node: JsonSchema, path: string): string[] {
  const found: string[] = [];
  const visit = (schema: JsonSchema, at: string) => {
    for (const [name, child] of Object.entries(schema.properties ?? {})) {
      const property = child as JsonSchema;
      if (typeof property.description !== 'string' || property.description === '')
        found.push(`${at}.${name}`);
      visit(property, `${at}.${name}`);
    }
    for (const branch of [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])]) visit(branch as JsonSchema, at);
    if (typeof schema.items === 'object' && !Array.isArray(schema.items))
      visit(schema.items as JsonSchema, `${at}[]`);
    if (typeof schema.additionalProperties === 'object')
      visit(schema.additionalProperties as JsonSchema, `${at}.<name>`);
  };
  visit(node, path);
  return found;
}

const schemas: Record<string, z.ZodType> = {
  'KrakenCluster spec': krakenClusterSpecSchema,
  'KrakenCluster status': krakenClusterStatusSchema,
  'ReplicationRule spec': replicationRuleSpecSchema,
  'ReplicationRule status': replicationRuleStatusSchema,
};

describe('the API schemas', () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`${name}: every field is described (kubectl explain shows it)`, () => {
      expect(undescribed(configJsonSchema(schema, { inline: true }), name.split(' ')[1] ?? '')).toEqual([]);
    });
  }
});
