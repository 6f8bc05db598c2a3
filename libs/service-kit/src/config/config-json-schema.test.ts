import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configJsonSchema } from './config-json-schema.js';

describe('configJsonSchema', () => {
  it('describes the document a person writes: defaulted keys are optional and show their default', () => {
    const schema = z
      .object({
        server: z
          .object({ port: z.number().int().default(8080).describe('TCP port.') })
          .strict()
          .prefault({})
          .describe('HTTP server.'),
        name: z.string().describe('Required name.'),
      })
      .strict();
    const json = configJsonSchema(schema);
    expect(json.required).toEqual(['name']);
    expect(json.additionalProperties).toBe(false);
    expect(json.properties?.server).toMatchObject({
      description: 'HTTP server.',
      default: {},
      properties: { port: { type: 'integer', default: 8080, description: 'TCP port.' } },
    });
    expect((json.properties?.server as { required?: string[] }).required).toBeUndefined();
  });

  it('returns plain JSON data', () => {
    const json = configJsonSchema(z.object({ a: z.string().default('x') }));
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(Object.getOwnPropertyNames(json)).not.toContain('~standard');
  });

  it('inlines schemas registered with an id, leaving no $ref or $defs', () => {
    const retry = z
      .object({ attempts: z.number().default(3) })
      .strict()
      .meta({ id: 'ConfigJsonSchemaTestRetry' });
    const schema = z.object({ read: retry, write: retry }).strict();

    expect(JSON.stringify(configJsonSchema(schema))).toContain('"$ref"');
    const inlined = configJsonSchema(schema, { inline: true });
    expect(JSON.stringify(inlined)).not.toMatch(/"\$ref"|"\$defs"|"definitions"/);
    expect(inlined.properties?.read).toEqual(inlined.properties?.write);
    expect(inlined.properties?.read).toMatchObject({ properties: { attempts: { default: 3 } } });
  });

  it('leaves data that looks like a reference alone', () => {
    const schema = z.object({ $ref: z.string().default('#/$defs/x') }).strict();
    const inlined = configJsonSchema(schema, { inline: true });
    expect(inlined.properties?.$ref).toMatchObject({ default: '#/$defs/x' });
  });

  it('refuses to inline a recursive schema', () => {
    interface Node {
      children: Node[];
    }
    const node: z.ZodType<Node> = z.lazy(() => z.object({ children: z.array(node) }));
    expect(() => configJsonSchema(node, { inline: true })).toThrow();
  });

  it('writes the OpenAPI 3.0 dialect a CRD wants', () => {
    const json = configJsonSchema(z.object({ host: z.string().nullable() }), {
      target: 'openapi-3.0',
      inline: true,
    });
    expect(json.$schema).toBeUndefined();
    expect(json.properties?.host).toMatchObject({ type: 'string', nullable: true });
  });
});
