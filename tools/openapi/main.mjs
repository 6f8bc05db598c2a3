// Writes the OpenAPI 3.1 document of each component's internal HTTP API,
// docs/api/<app>.openapi.json, from the route contracts its libs export. Each app's
// `apiReference` (src/api.ts: the service routes and its /v1/ routes) comes from
// apps/<app>/dist/api.js, which tools/build-app.mjs bundles; `npm run docs:api` builds the
// apps first and then runs this. The apps' api-docs tests render the same way, so a stale
// document fails `npm test`.
//
//   node tools/openapi/main.mjs          write the documents
//   node tools/openapi/main.mjs --check  write nothing; name the stale documents and exit 1
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderOpenApiDocument } from '@kraken/service-kit';

// The components whose /v1/ API others call; the proxy and agents speak the registry API.
const apps = ['origin', 'tracker', 'build-index'];

const root = new URL('../../', import.meta.url);
const docsDir = new URL('docs/api/', root);
const check = process.argv.includes('--check');

const stale = [];
for (const app of apps) {
  const built = new URL(`apps/${app}/dist/api.js`, root);
  if (!existsSync(built)) {
    console.error(`${fileURLToPath(built)} is missing: build the apps first (npm run docs:api does).`);
    process.exit(2);
  }
  const { apiReference } = await import(built.href);
  const text = renderOpenApiDocument(apiReference);
  const name = `${app}.openapi.json`;
  const file = new URL(name, docsDir);
  const current = existsSync(file) ? await readFile(file, 'utf8') : undefined;
  if (current === text) continue;
  stale.push(`docs/api/${name}`);
  if (!check) {
    await mkdir(docsDir, { recursive: true });
    await writeFile(file, text);
  }
}

if (check && stale.length > 0) {
  console.error(`Stale API documents (run \`npm run docs:api\`):\n${stale.map((f) => `  ${f}`).join('\n')}`);
  process.exit(1);
}
console.log(stale.length === 0 ? 'docs/api is up to date.' : `Wrote ${stale.join(', ')}.`);
