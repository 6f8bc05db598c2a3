/**
 * The devcluster's secure mode end to end: TLS with a throwaway CA on every link between
 * components, mutual TLS between peers, pushes authenticated. skopeo pushes through the
 * proxy verifying its certificate against the CA, two agents pull the image, the second
 * mostly from the first over mutual-TLS P2P, and the plain-HTTP agents stay on loopback.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, hostOf, type Cluster } from './support/cluster.js';
import { generateImage } from './support/oci-layout.js';
import { layoutTopDigest } from './support/oci-layout-reader.js';
import { skopeoCopy } from './support/skopeo.js';
import { metricSum } from './support/prometheus-text.js';

const MiB = 1024 * 1024;
let work: string;
let cluster: Cluster;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-secure-'));
  cluster = await startCluster({ dir: join(work, 'cluster'), agents: 2, secure: true });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('secure devcluster', () => {
  it('lists https endpoints, the push user and the CA in endpoints.json', async () => {
    const endpoints = JSON.parse(await readFile(join(work, 'cluster', 'endpoints.json'), 'utf8')) as {
      proxy: string[];
      origin: string[];
      agent: string[];
      auth: { username: string; password: string };
      ca: string;
    };
    expect(endpoints.proxy[0]).toMatch(/^https:\/\/127\.0\.0\.1:/);
    expect(endpoints.origin[0]).toMatch(/^https:/);
    expect(endpoints.agent[0]).toMatch(/^http:\/\/127\.0\.0\.1:/);
    expect(endpoints.auth).toEqual(cluster.secure?.user);
    expect(await readFile(endpoints.ca, 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  it('pushes with credentials over verified TLS and pulls through two agents, the second by P2P', async () => {
    const src = join(work, 'image');
    const image = await generateImage(src, 'v1', [24 * MiB, 64 * 1024]);
    const proxy = hostOf(cluster.endpoints.proxy[0]!);
    const { user, certDir } = cluster.secure!;
    const verified = ['--dest-tls-verify=true', '--dest-cert-dir', certDir];
    await expect(skopeoCopy(`oci:${src}:v1`, `docker://${proxy}/secure/app:v1`, verified)).rejects.toThrow(
      /unauthorized|authentication required/i,
    );
    await skopeoCopy(`oci:${src}:v1`, `docker://${proxy}/secure/app:v1`, [
      ...verified,
      '--dest-creds',
      `${user.username}:${user.password}`,
    ]);

    for (const [i, agent] of cluster.endpoints.agent.entries()) {
      const out = join(work, `pulled-${i}`);
      await skopeoCopy(`docker://${hostOf(agent)}/secure/app:v1`, `oci:${out}:v1`);
      expect(await layoutTopDigest(out)).toBe(image.manifest.digest);
    }
    const second = cluster.endpoints.agent[1]!;
    expect(await metricSum(second, 'kraken_agent_swarm_bytes_total', { source: 'peer' })).toBeGreaterThan(0);
    // No peer was refused: both agents and the origin hold certificates of the cluster CA.
    for (const agent of cluster.endpoints.agent)
      expect(await metricSum(agent, 'kraken_agent_p2p_handshake_refused_total')).toBe(0);
  });
});
