/**
 * The keys of a config schema as an operator reads them: one section per top-level
 * block, every nested key under its dotted path, and each variant of a discriminated
 * union (a storage backend chosen by `type`) apart, since its keys apply only when that
 * variant is chosen. It reads the JSON Schema from configJsonSchema, so the reference
 * documents exactly what that schema (and a CRD built from it) says.
 */
import type { JsonSchema } from './config-json-schema.js';

export interface ConfigKey {
  /** As written in YAML: `p2p.scheduler.maxPeersPerBlob`; `[]` is every list element, `<name>` any map key. */
  path: string;
  schema: JsonSchema;
  /** Has no default and is not optional: it must be set whenever its enclosing block is. */
  required: boolean;
  /** Describes the elements of a list or the values of a map, which have no default of their own. */
  element: boolean;
  /**
   * A discriminated union with the very variants of an earlier one at this path (each
   * namespace rule's backend is a `storage` backend): documented there, not again.
   */
  variantsOf?: string;
}

export interface ConfigVariant {
  /** Where the union sits, e.g. `storage`. */
  path: string;
  /** The key whose constant value selects the variant, e.g. `type`. */
  discriminator: string;
  value: string | number | boolean | null;
  description: string | undefined;
  keys: ConfigKey[];
  variants: ConfigVariant[];
}

export interface ConfigSection {
  /** The top-level key. */
  key: string;
  description: string | undefined;
  keys: ConfigKey[];
  /** Variants of the unions inside the block, in the order they appear. */
  variants: ConfigVariant[];
}

type Collected = Pick<ConfigSection, 'keys' | 'variants'>;

/** Flattens an object schema into its top-level sections, in schema order. */
export function configSections(root: JsonSchema): ConfigSection[] {
  if (root.properties === undefined) throw new Error('a config reference needs an object schema');
  const unions = new Map<string, string>();
  return Object.entries(root.properties).map(([key, value]) => {
    const schema = asSchema(value);
    const section: ConfigSection = { key, description: schema.description, keys: [], variants: [] };
    // A block that defaults to `{}` gets no row of its own: its heading already says it all.
    const self = !(isPlainObject(schema) && isEmptyObject(schema.default));
    collect(schema, { path: key, required: isRequired(root, key), element: false, self, unions }, section);
    return section;
  });
}

interface Site {
  path: string;
  required: boolean;
  element: boolean;
  /** Whether the schema at `path` gets a row, or only its children do. */
  self: boolean;
  /** Path of each discriminated union documented so far, by its variants' JSON. */
  unions: Map<string, string>;
}

function collect(schema: JsonSchema, site: Site, into: Collected): void {
  const key: ConfigKey = { path: site.path, schema, required: site.required, element: site.element };
  if (site.self) into.keys.push(key);
  const discriminator = discriminatorOf(schema);
  if (discriminator === undefined) {
    collectChildren(schema, site, into);
    return;
  }
  const variantsJson = JSON.stringify(unionMembers(schema));
  const documented = site.unions.get(variantsJson);
  if (documented !== undefined) {
    key.variantsOf = documented;
    return;
  }
  site.unions.set(variantsJson, site.path);
  for (const member of unionMembers(schema) ?? []) {
    const variant: ConfigVariant = {
      path: site.path,
      discriminator,
      value: constValue(asSchema(member.properties?.[discriminator])) ?? null,
      description: member.description,
      keys: [],
      variants: [],
    };
    collectChildren(member, site, variant);
    into.variants.push(variant);
  }
}

function collectChildren(schema: JsonSchema, parent: Site, into: Collected): void {
  const { path, unions } = parent;
  for (const [name, value] of Object.entries(schema.properties ?? {})) {
    const required = isRequired(schema, name);
    collect(asSchema(value), { path: `${path}.${name}`, required, element: false, self: true, unions }, into);
  }
  const element = elementOf(schema);
  if (element !== undefined) {
    // An element gets a row when it has something to say; a plain object element only
    // contributes its keys, which the list's own row already introduces.
    const self = element.schema.description !== undefined || unionMembers(element.schema) !== undefined;
    if (self || hasChildren(element.schema)) {
      const site = { path: `${path}${element.suffix}`, required: false, element: true, self, unions };
      collect(element.schema, site, into);
    }
  }
  // Keys of the object members of a plain union (`"host:port"` or `{address, weight}`)
  // are documented at the union's own path.
  if (discriminatorOf(schema) === undefined) {
    for (const member of unionMembers(schema) ?? []) collectChildren(member, parent, into);
  }
}

/** The schema of a list's elements or of a map's values, with the path suffix naming them. */
function elementOf(schema: JsonSchema): { schema: JsonSchema; suffix: string } | undefined {
  if (schema.items !== undefined && !Array.isArray(schema.items)) {
    return { schema: asSchema(schema.items), suffix: '[]' };
  }
  const values = schema.additionalProperties;
  if (schema.properties === undefined && values !== undefined && typeof values === 'object') {
    return { schema: values, suffix: '.<name>' };
  }
  return undefined;
}

function hasChildren(schema: JsonSchema): boolean {
  return (
    schema.properties !== undefined ||
    elementOf(schema) !== undefined ||
    (unionMembers(schema) ?? []).some(hasChildren)
  );
}

export function unionMembers(schema: JsonSchema): JsonSchema[] | undefined {
  return schema.oneOf ?? schema.anyOf;
}

/**
 * The key that tells the members of a union apart, when every member is an object
 * holding it as a distinct constant (zod's `z.discriminatedUnion`); otherwise undefined.
 */
export function discriminatorOf(schema: JsonSchema): string | undefined {
  const members = unionMembers(schema);
  const first = members?.[0]?.properties;
  if (members === undefined || first === undefined) return undefined;
  return Object.keys(first).find((key) => {
    const values = members.map((member) => {
      const property = member.properties?.[key];
      return property === undefined ? undefined : constValue(asSchema(property));
    });
    return values.every((value) => value !== undefined) && new Set(values).size === values.length;
  });
}

export function constValue(schema: JsonSchema): string | number | boolean | null | undefined {
  if (schema.const !== undefined) return schema.const;
  return schema.enum?.length === 1 ? schema.enum[0] : undefined;
}

/** JSON Schema allows `true` (anything) and `false` (nothing) where a schema goes. */
export function asSchema(value: boolean | JsonSchema | undefined): JsonSchema {
  if (value === undefined || value === true) return {};
  if (value === false) return { not: {} };
  return value;
}

function isRequired(parent: JsonSchema, key: string): boolean {
  return parent.required?.includes(key) ?? false;
}

function isPlainObject(schema: JsonSchema): boolean {
  return schema.properties !== undefined && unionMembers(schema) === undefined;
}

function isEmptyObject(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0
  );
}
