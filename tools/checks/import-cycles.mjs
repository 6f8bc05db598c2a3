#!/usr/bin/env node
// Fails when files import each other in a cycle inside a lib or an app. Cycles between projects
// are lint errors already (@nx/enforce-module-boundaries); this covers the files within one.
// Type-only imports count: a cycle through types still ties two concepts into one.
// Uses dpdm's parser; exits 1 listing each cycle. Run by `npm test`.
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseCircular, parseDependencyTree } from 'dpdm';

const root = join(import.meta.dirname, '..', '..');
const entries = [];
for (const top of ['libs', 'apps']) {
  for (const name of readdirSync(join(root, top))) {
    const src = join(top, name, 'src');
    if (existsSync(join(root, src))) entries.push(`${src}/**/*.ts`);
  }
}
const tree = await parseDependencyTree(entries, {
  context: root,
  tsconfig: join(root, 'tsconfig.base.json'),
  transform: false,
  // Only the project's own files: package imports (other libs) are the lint rule's business.
  exclude: /node_modules|\/dist\//,
  onProgress: () => {},
});
// Keep edges inside one project: an edge into another lib goes through its index and is not ours.
const project = (file) => file.split('/').slice(0, 2).join('/');
for (const [file, deps] of Object.entries(tree)) {
  if (deps === null) continue;
  tree[file] = deps.filter((d) => d.id !== null && project(d.id) === project(file));
}
const cycles = parseCircular(tree);
if (cycles.length > 0) {
  for (const cycle of cycles) console.error(`import-cycles: ${[...cycle, cycle[0]].join(' -> ')}`);
  console.error(`import-cycles: ${cycles.length} cycle(s) inside projects`);
  process.exit(1);
}
console.log(`import-cycles: none in ${Object.keys(tree).length} files`);
