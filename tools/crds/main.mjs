// Writes the operator's CustomResourceDefinitions, deploy/crds/<plural>.kraken.dev.yaml,
// from the zod schemas of libs/operator (its built dist/; `npm run crds` builds it first).
// The operator's crd-manifest test renders the same way, so a stale file fails `npm test`.
//
//   node tools/crds/main.mjs          write the files
//   node tools/crds/main.mjs --check  write nothing; name the stale files and exit 1
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = new URL('../../', import.meta.url);
const built = new URL('libs/operator/dist/index.js', root);
if (!existsSync(built)) {
  console.error(`${fileURLToPath(built)} is missing: build the operator lib first (npm run crds does).`);
  process.exit(2);
}
const { crdFileName, crdManifests, crdYaml } = await import(built.href);
const check = process.argv.includes('--check');
const dir = new URL('deploy/crds/', root);

const stale = [];
for (const crd of crdManifests()) {
  const file = new URL(crdFileName(crd), dir);
  const text = crdYaml(crd);
  const current = existsSync(file) ? await readFile(file, 'utf8') : undefined;
  if (current === text) continue;
  stale.push(`deploy/crds/${crdFileName(crd)}`);
  if (!check) {
    await mkdir(dir, { recursive: true });
    await writeFile(file, text);
  }
}
if (check && stale.length > 0) {
  console.error(`stale: ${stale.join(', ')} (run npm run crds)`);
  process.exit(1);
}
console.log(stale.length === 0 ? 'deploy/crds is current' : `wrote ${stale.join(', ')}`);
