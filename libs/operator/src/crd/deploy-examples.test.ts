import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { KrakenCluster } from '../api/v1alpha1/kraken-cluster-types.js';
import { validateKrakenCluster } from '../api/v1alpha1/kraken-cluster-validation.js';
import { parseReplicationRuleSpec, toBuildIndexRule } from '../api/v1alpha1/replication-rule-mapping.js';
import type { ReplicationRule } from '../api/v1alpha1/replication-rule-types.js';
import { certificateRequirements } from '../render/certificate-requirements.js';
import { renderCluster } from '../render/cluster-render.js';

async function documents(name: string): Promise<Array<{ kind: string } & Record<string, unknown>>> {
  const text = await readFile(new URL(`../../../../deploy/examples/${name}`, import.meta.url), 'utf8');
  return parseAllDocuments(text).map((doc) => doc.toJS() as { kind: string });
}

describe('deploy/examples', () => {
  it('krakencluster.yaml is a valid KrakenCluster, and its Certificate names what the cluster needs', async () => {
    const docs = await documents('krakencluster.yaml');
    const cluster = docs.find((d) => d.kind === 'KrakenCluster') as unknown as KrakenCluster;
    const spec = validateKrakenCluster(cluster);
    expect(spec.storage.type).toBe('s3');
    expect(
      renderCluster({ ...cluster, metadata: { ...cluster.metadata, uid: 'example' } }).objects.length,
    ).toBeGreaterThan(0);
    const certificate = docs.find((d) => d.kind === 'Certificate') as unknown as {
      spec: { secretName: string; dnsNames: string[] };
    };
    const [required] = certificateRequirements(cluster);
    expect(required?.secretName).toBe(certificate.spec.secretName);
    expect(certificate.spec.dnsNames).toEqual(expect.arrayContaining([...(required?.dnsNames ?? [])]));
  });

  it('replicationrule.yaml is a valid ReplicationRule', async () => {
    const [rule] = (await documents('replicationrule.yaml')) as unknown as ReplicationRule[];
    expect(rule?.kind).toBe('ReplicationRule');
    const spec = parseReplicationRuleSpec(rule as ReplicationRule);
    expect(spec.cluster).toBe('kraken');
    expect(toBuildIndexRule(rule as ReplicationRule).name).toBe('rr-team-to-eu');
  });
});
