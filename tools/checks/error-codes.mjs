#!/usr/bin/env node
// Checks the error code catalogue (libs/foundation/src/error-catalogue.ts) against the code:
// - every KRAKEN_* code written in a lib's or app's source is in the catalogue;
// - no code is raised by two error classes (`super('KRAKEN_X', ...)` in two classes);
// - every catalogue entry is still used somewhere, so the catalogue never lists dead codes.
// Exits 1 with one line per problem. Run by `npm test`.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const catalogueFile = join(root, 'libs/foundation/src/error-catalogue.ts');
const catalogue = new Set(
  [...readFileSync(catalogueFile, 'utf8').matchAll(/^\s+(KRAKEN_[A-Z0-9_]+):/gm)].map((m) => m[1]),
);

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !path.includes('/testing/')) yield path;
  }
}

const problems = [];
const used = new Set();
const raisedBy = new Map(); // code -> Set of "file:Class"
for (const top of ['libs', 'apps']) {
  for (const file of sources(join(root, top))) {
    if (file === catalogueFile) continue;
    const text = readFileSync(file, 'utf8');
    const where = relative(root, file);
    for (const m of text.matchAll(/'(KRAKEN_[A-Z0-9_]+)'/g)) {
      // KRAKEN_HTTP_<status>: a remote's error status without a /v1/ body (see the catalogue).
      if (/^KRAKEN_HTTP_\d{3}$/.test(m[1])) continue;
      used.add(m[1]);
      if (!catalogue.has(m[1])) problems.push(`${where}: ${m[1]} is not in the error catalogue`);
    }
    // Each class body up to the next class: the codes its constructor hands to super().
    for (const cls of text.matchAll(/export class (\w+) extends \w+ \{([\s\S]*?)(?=\nexport |\n\/\*\*|$)/g)) {
      for (const sup of cls[2].matchAll(/super\(\s*'(KRAKEN_[A-Z0-9_]+)'/g)) {
        const owners = raisedBy.get(sup[1]) ?? new Set();
        owners.add(`${where}:${cls[1]}`);
        raisedBy.set(sup[1], owners);
      }
    }
  }
}
for (const [code, owners] of raisedBy) {
  if (owners.size > 1)
    problems.push(`${code} is raised by ${owners.size} classes: ${[...owners].join(', ')}`);
}
for (const code of catalogue) {
  if (!used.has(code)) problems.push(`${code} is in the catalogue but no source uses it`);
}
if (problems.length > 0) {
  for (const p of problems) console.error(`error-codes: ${p}`);
  process.exit(1);
}
console.log(`error-codes: ${catalogue.size} codes, each raised by at most one class`);
