/**
 * Loads a component's YAML config and validates it with the component's zod schema.
 * Errors name the offending key path (`server.port: expected number`) so that a bad
 * config fails at startup with a message a person can act on.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';

export async function loadConfigFile<S extends z.ZodType>(
  schema: S,
  path: string | undefined,
): Promise<z.output<S>> {
  if (path === undefined) return parseConfig(schema, {}, 'defaults');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(err as Error).message}`);
  }
  return parseConfig(schema, raw, path);
}

/** Validates an already-parsed config object; `source` names it in errors. */
export function parseConfig<S extends z.ZodType>(schema: S, raw: unknown, source = 'config'): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const base = issue.path.map(String).join('.');
    if (keys.length > 0) {
      return keys.map((k) => `${base ? `${base}.` : ''}${k}: unknown key`).join('; ');
    }
    return `${base || '(root)'}: ${issue.message}`;
  });
  throw new ConfigError(`invalid ${source}: ${problems.join('; ')}`, { issues: result.error.issues });
}
