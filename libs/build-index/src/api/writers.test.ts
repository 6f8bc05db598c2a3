import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createClientTls,
  createHttpServer,
  createJsonApiClient,
  createMetrics,
  RemoteApiError,
  ServiceUnreachableError,
  silentLogger,
  type ClientTls,
  type ClientTlsContext,
} from '@kraken/service-kit';
import { createTestPki, type TestPki } from '@kraken/service-kit/testing';
import { createFilesystemBackend } from '@kraken/storage-backends';
import { createBuildIndexClient } from '../client/build-index-client.js';
import { createBuildIndexCluster } from '../cluster/cluster.js';
import { createBuildIndexReplication } from '../replication/replication.js';
import { replicationConfigSchema } from '../replication/rule-config.js';
import { createFakeOrigin, imageManifest, storeImage } from '../testing/fixtures.js';
import { freePorts } from '../testing/replication-clusters.js';
import { createBuildIndexRoutes } from './routes.js';

// The build-index app's default writers, and an operator's identity for rule changes.
const WRITERS = ['proxy', 'build-index', 'ops'];
const forbidden = { code: 'KRAKEN_IDENTITY_FORBIDDEN', statusCode: 403 };

let dir: string;
let pki: TestPki;
let urls: string[];
const origin = createFakeOrigin();
const closers: Array<() => unknown> = [];

/** One node of a two-node cluster, peers and clients all over mutual TLS. */
async function startNode(i: number, peerTls: ClientTlsContext | undefined): Promise<void> {
  const url = urls[i]!;
  const cert = pki.issue(`build-index-${i}`, { file: `node-${i}` });
  const logger = silentLogger();
  const metrics = createMetrics('build_index', { defaultMetrics: false });
  const backend = createFilesystemBackend({ root: join(dir, `node-${i}`) });
  const cluster = createBuildIndexCluster({
    backend,
    peers: urls.filter((u) => u !== url),
    replicationTimeoutMs: 5_000,
    antiEntropyIntervalMs: 0,
    nodeId: url,
    logger,
    metrics,
    tls: peerTls,
  });
  const replication = createBuildIndexReplication({
    config: replicationConfigSchema.parse({
      dbPath: join(dir, `queue-${i}.db`),
      backfillIntervalSeconds: 0,
      rulesRefreshSeconds: 3_600,
    }),
    cluster,
    backend,
    origin,
    origins: () => ({ nodes: [], replicas: 1 }),
    selfUrl: () => url,
    logger,
    metrics,
    tls: peerTls,
  });
  const server = createHttpServer({
    logger,
    metrics,
    tls: {
      certFile: cert.certFile,
      keyFile: cert.keyFile,
      clientCaFile: pki.caFile,
      clientAuth: 'require',
      reloadIntervalMs: 30_000,
    },
    writers: WRITERS,
  });
  await server.register(
    createBuildIndexRoutes({
      backend,
      origin,
      logger,
      metrics,
      tags: cluster.tags,
      onTagPut: (write) => cluster.replicateTag(write.repo, write.tag, write.value, write.record),
    }),
  );
  await server.register(cluster.routes);
  await server.register(replication.routes);
  await replication.start();
  await server.listen({ host: '127.0.0.1', port: Number(new URL(url).port) });
  closers.push(async () => {
    await server.close();
    await replication.close();
    await cluster.close();
  });
}

function tlsAs(identity: string | undefined): ClientTls {
  const cert = identity === undefined ? undefined : pki.issue(identity, { sans: [] });
  const tls = createClientTls({
    caFile: pki.caFile,
    ...(cert === undefined ? {} : { certFile: cert.certFile, keyFile: cert.keyFile }),
    reloadIntervalMs: 30_000,
  });
  closers.push(() => tls.close());
  return tls;
}

function clientAs(identity: string | undefined, node = 0) {
  const client = createBuildIndexClient({ url: urls[node]!, tls: tlsAs(identity) });
  closers.push(() => client.close());
  return client;
}

function apiAs(identity: string, node = 0) {
  const api = createJsonApiClient({
    url: urls[node]!,
    timeoutMs: 5_000,
    maxResponseBytes: 1024 * 1024,
    tls: tlsAs(identity),
  });
  closers.push(() => api.close());
  return api;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kraken-build-index-writers-'));
  pki = createTestPki(dir);
  urls = (await freePorts(2)).map((port) => `https://127.0.0.1:${port}`);
  // The nodes reach each other as `build-index`, one of the writers.
  const peers = tlsAs('build-index');
  await startNode(0, peers);
  await startNode(1, peers);
});
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  rmSync(dir, { recursive: true, force: true });
});

describe('build-index writes with client certificates required', () => {
  it('lets the proxy tag, and the node replicate the tag to its peer as build-index', async () => {
    const image = imageManifest({ config: 'config', layers: ['layer'] });
    storeImage(origin, image);
    await clientAs('proxy').putTag('team/app', 'v1', image.digest);
    // The write was pushed to the other node before it was acknowledged.
    expect((await clientAs('agent', 1).getTag('team/app', 'v1'))?.value).toBe(image.digest.value);
  });

  it('lets an agent read tags but not write or delete them', async () => {
    const image = imageManifest({ config: 'config', layers: ['agent layer'] });
    storeImage(origin, image);
    await clientAs('proxy').putTag('team/agent', 'v1', image.digest);
    const agent = clientAs('agent');
    expect((await agent.getTag('team/agent', 'v1'))?.value).toBe(image.digest.value);
    expect(await agent.listTags('team/agent')).toEqual(['v1']);
    await expect(agent.putTag('team/agent', 'v2', image.digest)).rejects.toMatchObject(forbidden);
    await expect(agent.putTag('team/agent', 'v2', image.digest)).rejects.toBeInstanceOf(RemoteApiError);
    await expect(agent.deleteTag('team/agent', 'v1')).rejects.toMatchObject(forbidden);
    // Nor may it write a replica as if it were a peer.
    const replica = await apiAs('agent').send({
      method: 'DELETE',
      path: '/v1/replica/repositories/team%2Fagent/tags/v1?deletedAt=2030-01-01T00:00:00.000Z',
    });
    expect(replica.statusCode).toBe(403);
    expect(((await replica.body.json()) as { error: { code: string } }).error.code).toBe(
      'KRAKEN_IDENTITY_FORBIDDEN',
    );
    expect((await agent.getTag('team/agent', 'v1'))?.value).toBe(image.digest.value);
  });

  it('takes replication rules from a writer only, and syncs them to the peer over TLS', async () => {
    const rule = { name: 'to-dr', repositories: '.*', destination: { discover: 'https://dr.example:15004' } };
    const byAgent = await apiAs('agent').send({ method: 'POST', path: '/v1/replication/rules', body: rule });
    expect(byAgent.statusCode).toBe(403);
    await byAgent.body.dump();

    const byOps = await apiAs('ops').send({ method: 'POST', path: '/v1/replication/rules', body: rule });
    expect(byOps.statusCode).toBe(201);
    await byOps.body.dump();
    await vi.waitFor(async () => {
      const listed = await apiAs('agent', 1).send({ method: 'GET', path: '/v1/replication/rules' });
      expect(((await listed.body.json()) as { rules: { name: string }[] }).rules.map((r) => r.name)).toEqual([
        'to-dr',
      ]);
    });
  });

  it('refuses a client without a certificate at the handshake', async () => {
    await expect(clientAs(undefined).getTag('team/app', 'v1')).rejects.toBeInstanceOf(
      ServiceUnreachableError,
    );
  });
});
