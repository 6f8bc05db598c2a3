/**
 * A config schema as JSON Schema, the one machine-readable form of it that the config
 * reference docs and (later) the operator's CRD OpenAPI schemas are both built from.
 * Markdown is not this file's business; see config-reference.ts.
 */
import { z } from 'zod';

export type JsonSchema = z.core.JSONSchema.JSONSchema;

export interface ConfigJsonSchemaOptions {
  /**
   * Inline every subschema, leaving no `$ref` and no `$defs`. Kubernetes structural
   * schemas (a CRD's `openAPIV3Schema`) accept neither; a recursive schema then throws,
   * since it has no finite inline form.
   */
  inline?: boolean;
  /** JSON Schema dialect; `openapi-3.0` is the one a CRD wants. Default `draft-2020-12`. */
  target?: 'draft-2020-12' | 'draft-07' | 'openapi-3.0';
}

/**
 * Converts `schema` with zod's `z.toJSONSchema` as seen by whoever writes the document:
 * `io: 'input'`. In that view a key with a default is optional (not in `required`) and
 * still carries its `default`, and a `.prefault({})` block shows as optional with
 * default `{}`. The `output` view would instead mark every defaulted key as required,
 * which is true of the parsed value but wrong for a YAML file or a CR a person writes.
 * The result is plain JSON data (no zod internals attached), safe to serialize or edit.
 */
export function configJsonSchema(schema: z.ZodType, options: ConfigJsonSchemaOptions = {}): JsonSchema {
  const generated = z.toJSONSchema(schema, {
    io: 'input',
    target: options.target ?? 'draft-2020-12',
    ...(options.inline ? { reused: 'inline', cycles: 'throw' } : {}),
  });
  const plain = JSON.parse(JSON.stringify(generated)) as JsonSchema;
  return options.inline ? inlineRefs(plain) : plain;
}

/** Keywords whose value is one schema, a list of schemas, or a map of named schemas. */
const schemaKeywords = new Set([
  'items',
  'additionalItems',
  'unevaluatedItems',
  'contains',
  'additionalProperties',
  'unevaluatedProperties',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
  'contentSchema',
]);
const schemaListKeywords = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
const schemaMapKeywords = new Set(['properties', 'patternProperties', 'dependentSchemas']);

/**
 * zod still moves a schema registered with an `id` (`.meta({ id })`) into `$defs`, even
 * with `reused: 'inline'`; this puts each definition back where it is referenced. It
 * walks schema keywords only, so data (`default`, `enum`, a property named `$ref`) is
 * never rewritten.
 */
function inlineRefs(root: JsonSchema): JsonSchema {
  const defs: Record<string, JsonSchema> = {
    ...(root.definitions as Record<string, JsonSchema> | undefined),
    ...root.$defs,
  };
  const inlineSchema = (node: unknown, seen: readonly string[]): unknown => {
    // An array here is a draft-07 tuple `items`; `true`/`false` schemas pass through.
    if (Array.isArray(node)) return node.map((item) => inlineSchema(item, seen));
    if (node === null || typeof node !== 'object') return node;
    const { $ref, ...rest } = node as JsonSchema;
    const out: Record<string, unknown> = {};
    if ($ref !== undefined) {
      const name = /^#\/(?:\$defs|definitions)\/(.+)$/.exec($ref)?.[1];
      const def = name === undefined ? undefined : defs[name];
      if (name === undefined || def === undefined) throw new Error(`cannot inline $ref ${$ref}`);
      if (seen.includes(name)) throw new Error(`cannot inline the recursive schema ${name}`);
      Object.assign(out, inlineSchema(def, [...seen, name]));
    }
    for (const [key, value] of Object.entries(rest)) {
      if (key === '$defs' || key === 'definitions') continue;
      if (schemaKeywords.has(key)) out[key] = inlineSchema(value, seen);
      else if (schemaListKeywords.has(key) && Array.isArray(value))
        out[key] = value.map((item) => inlineSchema(item, seen));
      else if (schemaMapKeywords.has(key) && value !== null && typeof value === 'object')
        out[key] = Object.fromEntries(
          Object.entries(value).map(([name, schema]) => [name, inlineSchema(schema, seen)]),
        );
      else out[key] = value;
    }
    return out;
  };
  return inlineSchema(root, []) as JsonSchema;
}
