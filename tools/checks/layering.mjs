#!/usr/bin/env node
// Proves that lint rejects imports against the layering (eslint.config.mjs, rule
// @nx/enforce-module-boundaries with the layer:/domain: tags): each probe below is linted as if
// it were a file of the named lib, and must be reported by that rule; a downward import must not.
// Exits 1 when a probe is not caught. Run by `npm test`.
import { createProjectGraphAsync } from '@nx/devkit';
import { ESLint } from 'eslint';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const probes = [
  {
    file: 'libs/foundation/src/probe.ts',
    from: '@kraken/oci-content',
    name: 'parseDigest',
    allowed: false,
    why: 'foundation imports no lib',
  },
  {
    file: 'libs/storage-backends/src/probe.ts',
    from: '@kraken/tracker',
    name: 'createPeerStore',
    allowed: false,
    why: 'core → domain is upward',
  },
  {
    file: 'libs/service-kit/src/probe.ts',
    from: '@kraken/origin',
    name: 'createOriginClient',
    allowed: false,
    why: 'core → domain is upward',
  },
  {
    file: 'libs/tracker/src/probe.ts',
    from: '@kraken/build-index',
    name: 'createBuildIndexClient',
    allowed: false,
    why: 'the tracker stands on the core alone',
  },
  {
    file: 'libs/origin/src/probe.ts',
    from: '@kraken/tracker',
    name: 'createPeerStore',
    allowed: false,
    why: 'the origin stands on the core alone',
  },
  {
    file: 'libs/build-index/src/probe.ts',
    from: '@kraken/origin',
    name: 'createOriginClient',
    allowed: true,
    why: 'the build-index checks content on the origins',
  },
  {
    file: 'libs/origin/src/probe.ts',
    from: '@kraken/storage-backends',
    name: 'createFilesystemBackend',
    allowed: true,
    why: 'domain → core is downward',
  },
];

// The Nx rule reads the cached project graph and skips itself when there is none (a fresh
// clone): build it first, so that a skipped rule can never pass for an enforced one.
await createProjectGraphAsync({ exitOnError: true });
const eslint = new ESLint({ cwd: root });
let failed = 0;
for (const probe of probes) {
  const code = `import { ${probe.name} } from '${probe.from}';\nexport const probe = ${probe.name};\n`;
  const [result] = await eslint.lintText(code, { filePath: join(root, probe.file) });
  const hits = (result?.messages ?? []).filter((m) => m.ruleId === '@nx/enforce-module-boundaries');
  const caught = hits.length > 0;
  const ok = caught !== probe.allowed;
  if (!ok) failed += 1;
  const verdict = caught ? `rejected: ${hits[0].message.split('\n')[0]}` : 'accepted';
  console.log(`layering: ${ok ? 'ok  ' : 'FAIL'} ${probe.file} ← ${probe.from} (${probe.why}): ${verdict}`);
}
process.exit(failed === 0 ? 0 : 1);
