import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { crdFileName, crdManifests, krakenClusterCrd, replicationRuleCrd } from './crd-manifest.js';
import { crdYaml } from './crd-manifest.js';

// The committed CRDs must be what the schemas generate today; tools/crds/main.mjs writes
// them with the same functions.
describe('deploy/crds', () => {
  for (const crd of crdManifests()) {
    it(`${crdFileName(crd)} is current with the schemas`, async () => {
      const file = new URL(`../../../../deploy/crds/${crdFileName(crd)}`, import.meta.url);
      const committed = await readFile(file, 'utf8').catch(() => '(missing)');
      expect(committed, `deploy/crds/${crdFileName(crd)} is stale: run \`npm run crds\``).toBe(crdYaml(crd));
    });
  }
});

describe('the CRDs', () => {
  it('serve kraken.dev/v1alpha1 with a status subresource, short names and the kraken category', () => {
    for (const [crd, shortName] of [
      [krakenClusterCrd(), 'kc'],
      [replicationRuleCrd(), 'rr'],
    ] as const) {
      expect(crd.spec.group).toBe('kraken.dev');
      expect(crd.spec.scope).toBe('Namespaced');
      expect(crd.spec.names.shortNames).toEqual([shortName]);
      expect(crd.spec.names.categories).toEqual(['kraken']);
      const [version] = crd.spec.versions;
      expect(version).toMatchObject({
        name: 'v1alpha1',
        served: true,
        storage: true,
        subresources: { status: {} },
      });
    }
  });

  it('print readiness, counts, lag and age', () => {
    const columns = (crd: ReturnType<typeof krakenClusterCrd>) =>
      crd.spec.versions[0]?.additionalPrinterColumns
        .filter((c) => c.priority === undefined)
        .map((c) => c.name);
    expect(columns(krakenClusterCrd())).toEqual(['Ready', 'Origins', 'Agents', 'Age']);
    expect(columns(replicationRuleCrd())).toEqual(['Cluster', 'Ready', 'Lag', 'Failed', 'Age']);
  });

  it('refuse negative replicas and require the image', () => {
    const schema = krakenClusterCrd().spec.versions[0]?.schema.openAPIV3Schema as {
      properties: {
        spec: { required: string[]; properties: Record<string, { properties: Record<string, unknown> }> };
      };
    };
    const spec = schema.properties.spec;
    expect(spec.required).toEqual(['image']);
    expect(spec.properties.origins?.properties.replicas).toMatchObject({
      type: 'integer',
      minimum: 1,
      default: 3,
    });
    expect(spec.properties.proxy?.properties.replicas).toMatchObject({ type: 'integer', minimum: 0 });
  });
});
