import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configJsonSchema } from '@kraken/service-kit';
import { UnsupportedSchemaError } from '../errors.js';
import { quantitySchema } from '../api/v1alpha1/quantity.js';
import { crdManifests } from './crd-manifest.js';
import { toStructuralSchema, type SchemaNode } from './structural-schema.js';

const structural = (schema: z.ZodType) =>
  toStructuralSchema(configJsonSchema(schema, { inline: true, target: 'openapi-3.0' }) as SchemaNode);

/** Every schema node reachable through properties, items and additionalProperties, with its path. */
function* nodes(node: SchemaNode, path = '#'): Generator<[string, SchemaNode]> {
  yield [path, node];
  for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, SchemaNode>))
    yield* nodes(child, `${path}/properties/${name}`);
  if (typeof node.items === 'object' && node.items !== null)
    yield* nodes(node.items as SchemaNode, `${path}/items`);
  if (typeof node.additionalProperties === 'object' && node.additionalProperties !== null)
    yield* nodes(node.additionalProperties as SchemaNode, `${path}/additionalProperties`);
}

describe('the generated CRD schemas', () => {
  for (const crd of crdManifests()) {
    const root = crd.spec.versions[0]?.schema.openAPIV3Schema as SchemaNode;
    const all = [...nodes(root)];

    it(`${crd.metadata.name}: are structural`, () => {
      expect(JSON.stringify(root)).not.toContain('$ref');
      for (const [path, node] of all) {
        const typed =
          typeof node.type === 'string' ||
          node['x-kubernetes-int-or-string'] === true ||
          node['x-kubernetes-preserve-unknown-fields'] === true;
        expect(typed, `${path} has no type`).toBe(true);
        expect(node.properties !== undefined && node.additionalProperties !== undefined, `${path}`).toBe(
          false,
        );
        expect(node.oneOf, `${path} keeps a oneOf`).toBeUndefined();
        if (node.anyOf !== undefined) {
          // The one anyOf the API server allows: int-or-string.
          expect(node['x-kubernetes-int-or-string'], path).toBe(true);
          expect(node.anyOf).toEqual([{ type: 'integer' }, { type: 'string' }]);
        }
      }
    });

    it(`${crd.metadata.name}: keep unknown fields out and patterns in RE2`, () => {
      for (const [path, node] of all) {
        if (path === '#/properties/metadata') continue;
        expect(node['x-kubernetes-preserve-unknown-fields'], path).toBeUndefined();
        if (typeof node.pattern === 'string') expect(node.pattern, path).not.toMatch(/\(\?[=!<]|\\[1-9]/);
      }
    });
  }
});

describe('toStructuralSchema', () => {
  it('merges a union of objects, dropping the variants’ defaults', () => {
    const schema = z.discriminatedUnion('type', [
      z.object({ type: z.literal('a'), size: z.number().int().default(1).describe('Size.') }).strict(),
      z.object({ type: z.literal('b'), size: z.number().int().describe('Size.'), name: z.string() }).strict(),
    ]);
    expect(structural(schema)).toEqual({
      type: 'object',
      properties: {
        type: { type: 'string', enum: ['a', 'b'], description: 'Selects the variant: a, b.' },
        size: { type: 'integer', description: '(a, b) Size.' },
        name: { type: 'string', description: '(b)' },
      },
      required: ['type'],
    });
  });

  it('marks quantities int-or-string, keeping the pattern', () => {
    const node = structural(z.object({ size: quantitySchema().default('1Gi') }).strict())
      .properties as Record<string, SchemaNode>;
    expect(node.size).toMatchObject({
      default: '1Gi',
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
    });
    expect(typeof node.size?.pattern).toBe('string');
  });

  it('keeps maps as additionalProperties alone', () => {
    expect(structural(z.record(z.string(), z.string()))).toEqual({
      type: 'object',
      additionalProperties: { type: 'string' },
    });
  });

  it('refuses what has no structural form', () => {
    expect(() => structural(z.union([z.string(), z.number()]))).toThrow(UnsupportedSchemaError);
    expect(() => toStructuralSchema({ type: 'object', patternProperties: {} })).toThrow(/patternProperties/);
  });
});
