import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configJsonSchema } from './config-json-schema.js';
import { typeLabel } from './config-type-label.js';

const label = (schema: z.ZodType) => typeLabel(configJsonSchema(schema, { inline: true }));

describe('typeLabel', () => {
  it('states number limits, leaving out the safe-integer bounds every int has', () => {
    expect(label(z.number().int())).toBe('integer');
    expect(label(z.number().int().min(0).max(65535))).toBe('integer (min 0, max 65535)');
    expect(label(z.number().positive().lt(1))).toBe('number (greater than 0, less than 1)');
    expect(label(z.number().int().multipleOf(256))).toBe('integer (multiple of 256)');
  });

  it('names a string format, or its pattern when the format is only zod bookkeeping', () => {
    expect(label(z.string().min(1).max(8))).toBe('string (min length 1, max length 8)');
    expect(label(z.url())).toBe('string (format `uri`)');
    expect(label(z.email())).toBe('string (format `email`)');
    expect(label(z.string().startsWith('/'))).toBe('string (pattern `^\\/.*`)');
    expect(label(z.string().regex(/^a`b$/))).toBe('string (pattern ``^a`b$``)');
  });

  it('spells out literals, enums, unions and nullables', () => {
    expect(label(z.literal('s3'))).toBe('`"s3"`');
    expect(label(z.enum(['http', 'https']))).toBe('one of `"http"`, `"https"`');
    expect(label(z.union([z.string(), z.number()]))).toBe('string or number');
    expect(label(z.string().nullable())).toBe('string or null');
  });

  it('scopes list and map limits to the list or map, and element types to the elements', () => {
    expect(label(z.array(z.string().min(1)).min(1))).toBe('array (min 1 item) of string (min length 1)');
    expect(label(z.array(z.union([z.string(), z.object({ a: z.string() })])))).toBe(
      'array of either string or object',
    );
    expect(label(z.record(z.string().regex(/^[a-z]+$/), z.number()))).toBe(
      'map from string (pattern `^[a-z]+$`) to number',
    );
  });

  it('points at the variants of a discriminated union', () => {
    const union = z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('a') }),
      z.object({ kind: z.literal('b') }),
    ]);
    expect(label(union)).toBe('object, a variant below chosen by `kind`');
  });
});
