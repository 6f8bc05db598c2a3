import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderOpenApiDocument } from '@kraken/service-kit';
import { apiReference } from './api.js';

// The committed document must be what the route contracts render today; tools/openapi/main.mjs
// writes it the same way.
describe('docs/api/tracker.openapi.json', () => {
  it('is current with the route contracts', async () => {
    const file = new URL('../../../docs/api/tracker.openapi.json', import.meta.url);
    const committed = await readFile(file, 'utf8').catch(() => '(missing)');
    expect(committed, 'docs/api/tracker.openapi.json is stale: run `npm run docs:api`').toBe(
      renderOpenApiDocument(apiReference),
    );
  });
});
