/**
 * JSON Schema (as zod's `z.toJSONSchema` writes it for OpenAPI 3.0, every `$ref`
 * inlined) to a Kubernetes structural schema, the form a CRD's `openAPIV3Schema`
 * must take:
 *
 * - every node has a `type`, or is an int-or-string quantity
 *   (`x-kubernetes-int-or-string`, with the one `anyOf` the API server allows);
 * - no `additionalProperties` beside `properties` (unknown fields are pruned, or
 *   refused under kubectl's strict field validation), and maps as
 *   `additionalProperties` alone;
 * - a union of objects (`oneOf`, e.g. the storage backends by `type`) becomes one
 *   object with every variant's properties, each described with the variants it
 *   belongs to and without its default (a default would land in the other variants);
 *   the exact check is the operator's zod parse, reported as Degraded;
 * - keywords the API server does not know are dropped when they only document
 *   (`examples`, `propertyNames`), and refused otherwise.
 */
import { isDeepStrictEqual } from 'node:util';
import { UnsupportedSchemaError } from '../errors.js';

/** A JSON Schema node, as plain JSON data. */
export type SchemaNode = { [key: string]: unknown };

/** Keywords of apiextensions.k8s.io/v1 JSONSchemaProps that pass through as they are. */
const VALUE_KEYWORDS = new Set([
  'description',
  'title',
  'default',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'multipleOf',
  'enum',
  'maxProperties',
  'minProperties',
  'nullable',
  'format',
]);
/** Documentation-only keywords with no place in a CRD. */
const DROPPED = new Set([
  '$schema',
  'examples',
  'propertyNames',
  'readOnly',
  'writeOnly',
  'deprecated',
  'id',
]);
/** Formats the API server validates; others are dropped rather than sent. */
const FORMATS = new Set([
  'uri',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'date',
  'date-time',
  'byte',
  'uuid',
  'int32',
  'int64',
  'float',
  'double',
  'password',
]);
const INT_OR_STRING = 'x-kubernetes-int-or-string';

/** Converts a generated JSON Schema to a structural one; throws UnsupportedSchemaError when it has no such form. */
export function toStructuralSchema(schema: SchemaNode): SchemaNode {
  return convert(schema, '#');
}

function convert(node: SchemaNode, path: string): SchemaNode {
  if (node[INT_OR_STRING] === true) return intOrString(node);
  if (Array.isArray(node.oneOf) || Array.isArray(node.anyOf)) return union(node, path);
  if ('const' in node) {
    const { const: value, ...rest } = node;
    return convert({ ...rest, type: rest.type ?? typeof value, enum: [value] }, path);
  }
  const out: SchemaNode = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED.has(key) || key === 'type') continue;
    if (key.startsWith('x-kubernetes-')) out[key] = value;
    else if (key === 'format') {
      if (FORMATS.has(String(value))) out.format = value;
    } else if (key === 'maximum' || key === 'minimum') {
      // zod bounds every integer to the safe range, which says nothing in a CRD.
      if (Math.abs(Number(value)) !== Number.MAX_SAFE_INTEGER) out[key] = value;
    } else if (VALUE_KEYWORDS.has(key)) out[key] = value;
    else if (!['properties', 'required', 'additionalProperties', 'items'].includes(key))
      throw new UnsupportedSchemaError(path, `keyword ${key}`);
  }
  const type = node.type;
  if (typeof type !== 'string') throw new UnsupportedSchemaError(path, 'no type');
  if (type === 'object') return { type, ...out, ...objectBody(node, path) };
  if (type === 'array') {
    const items = node.items;
    if (!isSchema(items)) throw new UnsupportedSchemaError(path, 'an array without one items schema');
    return { type, ...out, items: convert(items, `${path}/items`) };
  }
  return { type, ...out };
}

function objectBody(node: SchemaNode, path: string): SchemaNode {
  const { properties, additionalProperties, required } = node;
  if (isSchema(properties)) {
    if (isSchema(additionalProperties))
      throw new UnsupportedSchemaError(path, 'additionalProperties beside properties');
    const converted = Object.fromEntries(
      Object.entries(properties).map(([name, value]) => [
        name,
        convert(value as SchemaNode, `${path}/properties/${name}`),
      ]),
    );
    return Array.isArray(required) && required.length > 0
      ? { properties: converted, required }
      : { properties: converted };
  }
  if (isSchema(additionalProperties)) {
    // `{}` allows any value: the one place where unknown fields must be kept.
    if (Object.keys(additionalProperties).length === 0)
      return { 'x-kubernetes-preserve-unknown-fields': true };
    return { additionalProperties: convert(additionalProperties, `${path}/additionalProperties`) };
  }
  if (additionalProperties === true) return { 'x-kubernetes-preserve-unknown-fields': true };
  return { properties: {} };
}

/** A quantity: the API server's int-or-string, with the string pattern kept at the top. */
function intOrString(node: SchemaNode): SchemaNode {
  const branches = (node.anyOf ?? node.oneOf ?? []) as SchemaNode[];
  const pattern = branches.find((b) => b.type === 'string')?.pattern;
  return {
    ...pick(node, ['description', 'title', 'default']),
    [INT_OR_STRING]: true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    ...(pattern === undefined ? {} : { pattern }),
  };
}

function union(node: SchemaNode, path: string): SchemaNode {
  const { oneOf, anyOf, ...outer } = node;
  const branches = ((oneOf ?? anyOf) as SchemaNode[]).map((b, i) => convert(b, `${path}/oneOf/${i}`));
  const meta = pick(outer, ['description', 'title', 'default', 'nullable']);
  if (branches.every((b) => b.type === 'object' && isSchema(b.properties)))
    return { type: 'object', ...meta, ...mergeObjects(branches) };
  const types = new Set(branches.map((b) => b.type));
  if (types.size === 1 && branches.every((b) => Array.isArray(b.enum)))
    return { type: branches[0]?.type, ...meta, enum: branches.flatMap((b) => b.enum as unknown[]) };
  throw new UnsupportedSchemaError(path, 'a union that is neither of objects nor of enums');
}

/** The discriminator: a property every branch has, each with one enum value. */
function discriminator(branches: readonly SchemaNode[]): string | undefined {
  const first = branches[0]?.properties as Record<string, SchemaNode> | undefined;
  return Object.keys(first ?? {}).find((name) =>
    branches.every((b) => {
      const prop = (b.properties as Record<string, SchemaNode>)[name];
      return Array.isArray(prop?.enum) && prop.enum.length === 1;
    }),
  );
}

interface Variant {
  readonly variant: string;
  readonly schema: SchemaNode;
}

function mergeObjects(branches: readonly SchemaNode[]): SchemaNode {
  const tag = discriminator(branches);
  const variantOf = (b: SchemaNode, i: number) =>
    tag === undefined
      ? `variant ${i + 1}`
      : String(((b.properties as Record<string, SchemaNode>)[tag]?.enum as unknown[])[0]);
  return mergeVariants(
    branches.map((schema, i) => ({ variant: variantOf(schema, i), schema })),
    tag,
  );
}

/** One object with the properties of every variant, required only where all require them. */
function mergeVariants(variants: readonly Variant[], tag?: string): SchemaNode {
  const byName = new Map<string, Variant[]>();
  for (const { variant, schema } of variants) {
    for (const [name, prop] of Object.entries(schema.properties as Record<string, SchemaNode>)) {
      byName.set(name, [...(byName.get(name) ?? []), { variant, schema: prop }]);
    }
  }
  const properties: Record<string, SchemaNode> = {};
  for (const [name, entries] of byName) {
    properties[name] =
      name === tag
        ? {
            ...omit(entries[0]?.schema ?? {}, ['description']),
            enum: entries.flatMap((e) => e.schema.enum as unknown[]),
            description: `Selects the variant: ${entries.map((e) => e.variant).join(', ')}.`,
          }
        : mergeProperty(entries);
  }
  const required = [...byName.keys()].filter((name) =>
    variants.every(({ schema }) => Array.isArray(schema.required) && schema.required.includes(name)),
  );
  return required.length > 0 ? { properties, required } : { properties };
}

/**
 * One property of several variants, without a default: their shared schema; objects
 * merged property by property; scalars of one type with only the type when their
 * validations differ.
 */
function mergeProperty(entries: readonly Variant[]): SchemaNode {
  const description = describeVariants(entries);
  const withDescription = (schema: SchemaNode) => (description ? { ...schema, description } : schema);
  const bare = entries.map(({ schema }) => omit(schema, ['description', 'default']));
  const first = bare[0] ?? {};
  if (bare.every((b) => isDeepStrictEqual(b, first))) return withDescription(first);
  const type = first.type;
  if (bare.some((b) => b.type !== type) || type === 'array')
    throw new UnsupportedSchemaError(
      '#',
      `variants disagree on the shape of a property (${entries.map((e) => e.variant).join(', ')})`,
    );
  if (type === 'object') {
    if (!entries.every((e) => isSchema(e.schema.properties)))
      throw new UnsupportedSchemaError('#', 'variants disagree on a map property');
    return withDescription({ type, ...mergeVariants(entries) });
  }
  return withDescription({ type });
}

function describeVariants(entries: readonly Variant[]): string {
  const texts = [
    ...new Set(entries.map((e) => e.schema.description).filter((d): d is string => typeof d === 'string')),
  ];
  const variants = entries.map((e) => e.variant).join(', ');
  if (texts.length <= 1) return `(${variants}) ${texts[0] ?? ''}`.trim();
  return entries.map((e) => `${e.variant}: ${String(e.schema.description ?? '')}`).join(' ');
}

function isSchema(value: unknown): value is SchemaNode {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function pick(node: SchemaNode, keys: readonly string[]): SchemaNode {
  return Object.fromEntries(Object.entries(node).filter(([key]) => keys.includes(key)));
}

function omit(node: SchemaNode, keys: readonly string[]): SchemaNode {
  return Object.fromEntries(Object.entries(node).filter(([key]) => !keys.includes(key)));
}
