import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.nx/**', '.devcluster/**', '**/vitest.config.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          banTransitiveDependencies: false,
          allow: [],
          // An app's main.ts imports the service kit dynamically, after the Node.js version
          // check (tools/build-app.mjs splits it into a shared chunk), while the rest of the
          // app imports it statically: intended, not a broken lazy load.
          checkDynamicDependenciesExceptions: ['@kraken/service-kit'],
          // The folder tree is the architecture (docs/architecture.md): imports point down the
          // layers, never up. Nx also reports any cycle between projects.
          depConstraints: [
            // foundation: errors, clock, bounded reads; it imports no other lib.
            { sourceTag: 'layer:foundation', onlyDependOnLibsWithTags: [] },
            // core: one concept each (content model, ring, storage, swarm peer, registry API, service kit).
            { sourceTag: 'layer:core', onlyDependOnLibsWithTags: ['layer:foundation', 'layer:core'] },
            // domain: one per deployable, built on the layers below.
            {
              sourceTag: 'layer:domain',
              onlyDependOnLibsWithTags: ['layer:foundation', 'layer:core', 'layer:domain'],
            },
            // Among domains only the origin is shared: the build-index checks content on the
            // origins. The origin and the tracker stand on the core alone.
            { sourceTag: 'domain:origin', notDependOnLibsWithTags: ['layer:domain'] },
            { sourceTag: 'domain:tracker', notDependOnLibsWithTags: ['layer:domain'] },
            { sourceTag: 'domain:build-index', notDependOnLibsWithTags: ['domain:tracker'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:tool'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib'] },
          ],
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@kraken/*/src/*', '@kraken/*/src', '**/libs/*/src/*', '**/apps/*/src/*'],
              message: 'Import a lib only through its public entry (@kraken/<lib>).',
            },
            {
              group: ['@kraken/app-*', '@kraken/app-*/*'],
              message: 'Apps are binaries: nothing imports them. Move shared code into a lib.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: globals.node },
  },
);
