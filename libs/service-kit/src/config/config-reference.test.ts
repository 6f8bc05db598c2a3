import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { renderConfigReference } from './config-reference.js';

const backend = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('fs').describe('Files under a directory.'),
      root: z.string().default('/data').describe('Root directory.'),
    })
    .strict()
    .describe('Filesystem backend.'),
  z
    .object({ type: z.literal('s3').describe('An S3 bucket.'), bucket: z.string().describe('Bucket.') })
    .strict()
    .describe('S3 backend.'),
]);

const schema = z
  .object({
    server: z
      .object({
        port: z.number().int().min(1).max(65535).default(8080).describe('TCP port.'),
        host: z.string().optional().describe('Bind address; all interfaces when unset.'),
      })
      .strict()
      .prefault({})
      .describe('HTTP server.'),
    p2p: z
      .object({
        scheduler: z
          .object({ maxPeersPerBlob: z.number().int().min(1).default(16).describe('Peers per blob.') })
          .strict()
          .prefault({})
          .describe('Piece scheduling.'),
      })
      .strict()
      .prefault({})
      .describe('Peer-to-peer distribution.'),
    logging: z
      .object({ level: z.enum(['info', 'debug']).default('info').describe('Minimum level.') })
      .strict()
      .prefault({})
      .describe('Logs.'),
    peers: z.array(z.string().min(1)).default([]).describe('Peer addresses.'),
    headers: z.record(z.string(), z.string()).default({}).describe('Extra headers.'),
    rules: z
      .array(
        z
          .object({
            pattern: z.string().describe('Namespace pattern, e.g. `a|b` <regex>.'),
            weight: z.number().default(1),
          })
          .strict(),
      )
      .optional()
      .describe('Routing rules, first match wins.'),
    backend: backend.prefault({ type: 'fs' }).describe('Where objects are stored.'),
    mirror: backend.optional().describe('Where a second copy goes.'),
  })
  .strict();

const options = { component: 'demo', title: 'Demo configuration', intro: 'The demo reads one YAML file.' };

/** Table rows by key path: [type, default, description], unescaped. */
function rows(markdown: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cells = line
      .slice(2, -2)
      .split(/ *(?<!\\)\| */)
      .map((cell) => cell.trim().replace(/\\\|/g, '|'));
    const [key = '', ...rest] = cells;
    found.set(key.replace(/^`|`$/g, ''), rest);
  }
  return found;
}

describe('renderConfigReference', () => {
  const markdown = renderConfigReference(schema, options);
  const table = rows(markdown);

  it('says the file is generated and by which command, under the title and before the intro', () => {
    const [title, note, intro] = markdown.split('\n\n');
    expect(title).toBe('# Demo configuration');
    expect(note).toMatch(/^> Generated .* by `npm run docs:config`\. Do not edit/);
    expect(intro).toBe('The demo reads one YAML file.');
    expect(renderConfigReference(schema, { component: 'demo' })).toMatch(/^# demo configuration\n/);
  });

  it('gives every nested key its dotted path, type, default and description', () => {
    expect(table.get('p2p.scheduler')).toEqual(['object', '`{}`', 'Piece scheduling.']);
    expect(table.get('p2p.scheduler.maxPeersPerBlob')).toEqual([
      'integer (min 1)',
      '`16`',
      'Peers per blob.',
    ]);
    expect(table.get('server.port')).toEqual(['integer (min 1, max 65535)', '`8080`', 'TCP port.']);
  });

  it('puts each top-level block in its own section, its description as the paragraph', () => {
    expect(markdown).toContain('## `server`\n\nHTTP server.\n\n| Key ');
    expect(markdown).toContain('- [`server`](#server): HTTP server.');
    // A block that defaults to `{}` has no row of its own; its keys do.
    expect(table.has('server')).toBe(false);
  });

  it('lists the values of an enum', () => {
    expect(table.get('logging.level')).toEqual(['one of `"info"`, `"debug"`', '`"info"`', 'Minimum level.']);
  });

  it('tells optional keys without a default from required ones', () => {
    expect(table.get('server.host')).toEqual(['string', '—', 'Bind address; all interfaces when unset.']);
    expect(table.get('backend.bucket')).toEqual(['string', '**required**', 'Bucket.']);
  });

  it('describes lists, their elements and maps', () => {
    expect(table.get('peers')?.slice(0, 2)).toEqual(['array of string (min length 1)', '`[]`']);
    expect(table.get('headers')).toEqual(['map from string to string', '`{}`', '']);
    expect(table.get('rules')?.slice(0, 2)).toEqual(['array of object', '—']);
    expect(table.get('rules[].pattern')).toEqual([
      'string',
      '**required**',
      'Namespace pattern, e.g. `a|b` \\<regex>.',
    ]);
    // A `|` ends a table cell even inside code; a `<` outside code would open an HTML tag.
    expect(markdown).toContain('| Namespace pattern, e.g. `a\\|b` \\<regex>. |');
    expect(table.get('rules[].weight')).toEqual(['number', '`1`', '']);
  });

  it('documents each variant of a discriminated union apart', () => {
    expect(table.get('backend')?.slice(0, 2)).toEqual([
      'object, a variant below chosen by `type`',
      '`{"type":"fs"}`',
    ]);
    const s3 = markdown.indexOf('### `backend` with `type: s3`\n\nS3 backend.\n\n');
    expect(s3).toBeGreaterThan(markdown.indexOf('### `backend` with `type: fs`\n\nFilesystem backend.'));
    expect(markdown.indexOf('| `backend.bucket`', s3)).toBeGreaterThan(s3);
    expect(table.get('backend.type')).toEqual(['`"s3"`', '**required**', 'An S3 bucket.']);
  });

  it('documents the same variants once', () => {
    expect(table.get('mirror')).toEqual(['object, one of the `backend` variants', '—', '']);
    expect(markdown).not.toContain('### `mirror`');
  });

  it('ends with a YAML file of every default, as parsing an empty file gives', () => {
    const yaml = /## Example with every default\n\n.*\n\n```yaml\n([\s\S]*)```\n$/.exec(markdown)?.[1];
    expect(yaml).toBeDefined();
    expect(parseYaml(yaml ?? '')).toEqual(schema.parse({}));
    expect(yaml).toContain('server:\n  port: 8080\n');
  });

  it('says so when there is no all-defaults file', () => {
    const required = z.object({ name: z.string().describe('Name.') }).strict();
    const text = renderConfigReference(required, { component: 'demo' });
    expect(text).not.toContain('```yaml');
    expect(text).toContain('Some keys have no default');
  });

  it('is deterministic and already formatted as Prettier prints it', async () => {
    expect(renderConfigReference(schema, options)).toBe(markdown);
    const config = await resolveConfig(fileURLToPath(import.meta.url));
    expect(await format(markdown, { ...config, parser: 'markdown' })).toBe(markdown);
  });
});
