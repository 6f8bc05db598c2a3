/**
 * The config reference of a component as a Markdown document, generated from its zod
 * schema so that the docs cannot drift from what the binary accepts. An operator writing
 * the YAML finds every key under its dotted path with its type, limits, default and
 * description (one table per top-level block), then a complete file of defaults.
 * The output depends only on the schema and the options, and is already in the form
 * Prettier prints, so regenerating an unchanged schema changes no byte.
 */
import { stringify as stringifyYaml } from 'yaml';
import type { z } from 'zod';
import { configJsonSchema } from './config-json-schema.js';
import { configSections } from './config-keys.js';
import type { ConfigKey, ConfigSection, ConfigVariant } from './config-keys.js';
import { typeLabel } from './config-type-label.js';
import { code, prose, table } from './markdown.js';

export interface ConfigReferenceOptions {
  /** The component as it is named in prose and file names, e.g. `agent`, `build-index`. */
  component: string;
  /** The document's title; `<component> configuration` when absent. */
  title?: string;
  /** Markdown placed under the title: what the component is, how it is given its file. */
  intro?: string;
}

/** The command that regenerates the docs, named in every generated file. */
const regenerateCommand = 'npm run docs:config';

export function renderConfigReference(schema: z.ZodType, options: ConfigReferenceOptions): string {
  const jsonSchema = configJsonSchema(schema, { inline: true });
  const sections = configSections(jsonSchema);
  const exampleHeading = 'Example with every default';
  const blocks = [
    `# ${options.title ?? `${options.component} configuration`}`,
    `> Generated from the ${code(options.component)} config schema by ${code(regenerateCommand)}. ` +
      `Do not edit it by hand: change the schema (its \`.describe()\` texts) and run the command again.`,
    ...(options.intro === undefined ? [] : [options.intro.trim()]),
    legend(jsonSchema.additionalProperties === false),
    '## Contents',
    [
      ...sections.map((section) => {
        const link = `[${code(section.key)}](#${slug(section.key)})`;
        return `- ${section.description === undefined ? link : `${link}: ${prose(section.description)}`}`;
      }),
      `- [${exampleHeading}](#${slug(exampleHeading)})`,
    ].join('\n'),
    ...sections.flatMap(renderSection),
    `## ${exampleHeading}`,
    ...renderExample(schema, options.component),
  ];
  return `${blocks.join('\n\n')}\n`;
}

function legend(strict: boolean): string {
  return [
    'How to read the tables:',
    [
      '- **Key** is the path in the YAML file: `a.b.c` is key `c` in block `b` in block `a`; ' +
        '`[]` stands for every element of a list and `<name>` for any key of a map.',
      '- **Default** is the value (as JSON) a key takes when it is absent. **required** marks a key ' +
        'without one that must be set whenever its block is present; — marks a key that is simply left unset.',
      ...(strict ? ['- An unknown key is an error that names it.'] : []),
    ].join('\n'),
  ].join('\n\n');
}

function renderSection(section: ConfigSection): string[] {
  return [
    `## ${code(section.key)}`,
    ...(section.description === undefined ? [] : [prose(section.description)]),
    ...renderKeys(section.keys, section.key),
    ...section.variants.flatMap(renderVariant),
  ];
}

function renderVariant(variant: ConfigVariant): string[] {
  const value = typeof variant.value === 'string' ? variant.value : JSON.stringify(variant.value);
  return [
    `### ${code(variant.path)} with ${code(`${variant.discriminator}: ${value}`)}`,
    ...(variant.description === undefined ? [] : [prose(variant.description)]),
    ...renderKeys(variant.keys),
    ...variant.variants.flatMap(renderVariant),
  ];
}

/** `describedAbove`: the key whose description is the paragraph above the table, not repeated in it. */
function renderKeys(keys: readonly ConfigKey[], describedAbove?: string): string[] {
  if (keys.length === 0) return [];
  const rows = keys.map((key) => [
    code(key.path),
    key.variantsOf === undefined
      ? typeLabel(key.schema)
      : `object, one of the ${code(key.variantsOf)} variants`,
    defaultLabel(key),
    key.path === describedAbove ? '' : prose(key.schema.description ?? ''),
  ]);
  return [table(['Key', 'Type', 'Default', 'Description'], rows)];
}

function defaultLabel(key: ConfigKey): string {
  if (key.element) return '—';
  if (key.schema.default !== undefined) return code(JSON.stringify(key.schema.default));
  return key.required ? '**required**' : '—';
}

/**
 * The defaults come from parsing `{}`, the very thing the binary does with an empty
 * file, rather than from the JSON Schema's `default`s: a block's default may itself be
 * an input (`.prefault`) that parsing expands.
 */
function renderExample(schema: z.ZodType, component: string): string[] {
  const parsed = schema.safeParse({});
  if (!parsed.success) {
    return [
      `Some keys have no default (the ones marked **required**), so ${code(component)} does not start from an empty file.`,
    ];
  }
  // Single quotes and no line folding: the form Prettier gives YAML in this repository.
  const yaml = stringifyYaml(parsed.data, { lineWidth: 0, singleQuote: true });
  return [
    `Every key at its default: what ${code(component)} runs with when its config file is empty (keys without a default are left out).`,
    `\`\`\`yaml\n${yaml.trimEnd()}\n\`\`\``,
  ];
}

/** The anchor GitHub gives a heading. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}
