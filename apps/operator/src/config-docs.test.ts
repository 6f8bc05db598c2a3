import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderConfigReference } from '@kraken/service-kit';
import { configReference, configSchema } from './config.js';

// The committed reference must be what the schema renders today; tools/docs-config.mjs
// writes it with the same schema and options.
describe('docs/config/operator.md', () => {
  it('is current with the config schema', async () => {
    const file = new URL('../../../docs/config/operator.md', import.meta.url);
    const committed = await readFile(file, 'utf8').catch(() => '(missing)');
    expect(committed, 'docs/config/operator.md is stale: run `npm run docs:config`').toBe(
      renderConfigReference(configSchema, configReference),
    );
  });
});
