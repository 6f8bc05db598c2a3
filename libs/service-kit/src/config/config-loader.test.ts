import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { loadConfigFile, parseConfig } from './config-loader.js';
import { listenSchema, loggingSchema } from './service-config.js';

const schema = z.object({ listen: listenSchema(8080), logging: loggingSchema }).strict();

describe('config loading', () => {
  it('fills every default from an empty file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
    await writeFile(join(dir, 'c.yaml'), '');
    expect(await loadConfigFile(schema, join(dir, 'c.yaml'))).toEqual({
      listen: { host: '127.0.0.1', port: 8080 },
      logging: { level: 'info' },
    });
  });

  it('names an unknown key with its full path', () => {
    expect(() => parseConfig(schema, { listen: { port: 1, hots: 'x' } })).toThrow(
      /listen\.hots: unknown key/,
    );
  });

  it('names a key of the wrong type', () => {
    expect(() => parseConfig(schema, { listen: { port: 'eighty' } })).toThrow(/listen\.port: /);
    expect(() => parseConfig(schema, { logging: { level: 'loud' } })).toThrow(ConfigError);
  });

  it('reports unreadable and malformed files clearly', async () => {
    await expect(loadConfigFile(schema, '/nonexistent/c.yaml')).rejects.toThrow(/cannot read config file/);
    const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
    await writeFile(join(dir, 'bad.yaml'), 'listen: [unclosed');
    await expect(loadConfigFile(schema, join(dir, 'bad.yaml'))).rejects.toThrow(/not valid YAML/);
  });
});
