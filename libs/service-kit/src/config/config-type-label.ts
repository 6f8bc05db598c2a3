/**
 * How a key's JSON Schema reads in the Type column of the config reference: the type in
 * words, then the limits a value must respect (`integer, min 1, max 1024`), so that an
 * operator learns what is valid without reading the zod source.
 */
import type { JsonSchema } from './config-json-schema.js';
import { asSchema, discriminatorOf, unionMembers } from './config-keys.js';
import { code } from './markdown.js';

/**
 * zod writes these string checks as a `format` and the `pattern` that enforces them; the
 * pattern is the part a reader can act on. For real formats (`uri`, `email`) it is the
 * other way round: the name says it, the regular expression would only obscure it.
 */
const patternFormats = new Set(['starts_with', 'ends_with', 'includes', 'regex', 'lowercase', 'uppercase']);

export function typeLabel(schema: JsonSchema): string {
  const discriminator = discriminatorOf(schema);
  if (discriminator !== undefined) return `object, a variant below chosen by ${code(discriminator)}`;
  const members = unionMembers(schema);
  if (members !== undefined) return members.map(typeLabel).join(' or ');
  if (schema.allOf !== undefined) return schema.allOf.map(typeLabel).join(' and ');
  if (schema.const !== undefined) return literal(schema.const);
  if (schema.enum !== undefined) return `one of ${schema.enum.map(literal).join(', ')}`;
  const types = schema.type === undefined ? [] : [schema.type].flat();
  if (types.length === 0) return schema.properties === undefined ? 'any' : 'object';
  return types.map((type) => withLimits(type, schema)).join(' or ');
}

function withLimits(type: string, schema: JsonSchema): string {
  switch (type) {
    case 'string':
      return limited('string', stringLimits(schema));
    case 'number':
    case 'integer':
      return limited(type, numberLimits(schema));
    case 'array':
      return `${limited('array', count(schema.minItems, schema.maxItems, 'item'))} of ${arrayItemLabel(schema)}`;
    case 'object':
      return objectLabel(schema);
    default:
      return type;
  }
}

/** Limits go in parentheses after the type they bind: `array (min 1 item) of string (min length 1)`. */
function limited(type: string, limits: readonly string[]): string {
  return limits.length === 0 ? type : `${type} (${limits.join(', ')})`;
}

function stringLimits(schema: JsonSchema): string[] {
  const limits: string[] = [];
  const showPattern = schema.format === undefined || patternFormats.has(schema.format);
  if (!showPattern && schema.format !== undefined) limits.push(`format ${code(schema.format)}`);
  if (schema.minLength !== undefined) limits.push(`min length ${schema.minLength}`);
  if (schema.maxLength !== undefined) limits.push(`max length ${schema.maxLength}`);
  if (showPattern && schema.pattern !== undefined) limits.push(`pattern ${code(schema.pattern)}`);
  return limits;
}

function numberLimits(schema: JsonSchema): string[] {
  // `.int()` bounds every integer by ±Number.MAX_SAFE_INTEGER, which tells a reader nothing.
  const meaningful = (bound: unknown): bound is number =>
    typeof bound === 'number' && Math.abs(bound) !== Number.MAX_SAFE_INTEGER;
  const limits: string[] = [];
  if (meaningful(schema.minimum)) limits.push(`min ${schema.minimum}`);
  if (meaningful(schema.exclusiveMinimum)) limits.push(`greater than ${schema.exclusiveMinimum}`);
  if (meaningful(schema.maximum)) limits.push(`max ${schema.maximum}`);
  if (meaningful(schema.exclusiveMaximum)) limits.push(`less than ${schema.exclusiveMaximum}`);
  if (schema.multipleOf !== undefined) limits.push(`multiple of ${schema.multipleOf}`);
  return limits;
}

function arrayItemLabel(schema: JsonSchema): string {
  if (Array.isArray(schema.items))
    return `[${schema.items.map((item) => typeLabel(asSchema(item))).join(', ')}]`;
  return nested(asSchema(schema.items));
}

function objectLabel(schema: JsonSchema): string {
  const values = schema.additionalProperties;
  if (schema.properties !== undefined || values === undefined || values === false) return 'object';
  const keys = schema.propertyNames === undefined ? 'string' : nested(asSchema(schema.propertyNames));
  const map = limited('map', count(schema.minProperties, schema.maxProperties, 'key'));
  return `${map} from ${keys} to ${nested(asSchema(values))}`;
}

/** A union inside an array or map label reads `either a or b`, so its scope is plain. */
function nested(schema: JsonSchema): string {
  const label = typeLabel(schema);
  return unionMembers(schema) !== undefined && discriminatorOf(schema) === undefined
    ? `either ${label}`
    : label;
}

function count(min: number | undefined, max: number | undefined, noun: string): string[] {
  const plural = (n: number) => `${n} ${n === 1 ? noun : `${noun}s`}`;
  return [
    ...(min === undefined ? [] : [`min ${plural(min)}`]),
    ...(max === undefined ? [] : [`max ${plural(max)}`]),
  ];
}

function literal(value: unknown): string {
  return code(JSON.stringify(value));
}
