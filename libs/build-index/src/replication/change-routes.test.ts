import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '@kraken/service-kit';
import { createFilesystemBackend } from '@kraken/storage-backends';
import { createVersionedTagStore } from '../store/versioned-tag-store.js';
import { createHybridClock } from '../version/hlc.js';
import { createChangeRoutes } from './change-routes.js';
import { createReplicationMetrics } from './replication-metrics.js';

let dir: string;
let app: FastifyInstance;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'build-index-change-routes-'));
  const tags = createVersionedTagStore({
    backend: createFilesystemBackend({ root: dir }),
    clock: createHybridClock({ clusterId: 'b', nodeId: 'node-0' }),
  });
  app = Fastify();
  await app.register(
    createChangeRoutes({
      tags,
      checkClosure: async () => ({ root: undefined, missing: [] }),
      cluster: {
        replicateTag: async () => ({ acked: [], failed: [] }),
        replicateDelete: async () => ({ acked: [], failed: [] }),
      },
      onApplied: () => {},
      describe: () => ({
        clusterId: 'b',
        buildIndex: ['http://b'],
        origins: { nodes: ['o:1'], replicas: 1 },
      }),
      metrics: createReplicationMetrics(createMetrics('build-index', { defaultMetrics: false }), {
        rules: () => [],
        ruleCount: () => ({ config: 0, api: 0 }),
      }),
    }),
  );
});

afterEach(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

const change = (version: string) => ({
  repository: 'team/app',
  tag: 'v1',
  kind: 'delete',
  version,
  origin: 'a',
  from: 'a',
});

describe('PUT /v1/replication/changes', () => {
  it('applies a delete and answers with the tombstone', async () => {
    const res = await app.inject({
      method: 'PUT',
      url: '/v1/replication/changes',
      payload: change('018f2a3b4c5d.000000.a.n'),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      applied: true,
      current: { version: '018f2a3b4c5d.000000.a.n', deleted: true },
    });
  });

  // Found by the API fuzzer: a version past the year 9999 was stored as a tombstone whose
  // deletedAt (`+010889-...`) the store itself could not read back, so this answer and every
  // later read of the tag failed with 500 KRAKEN_BUILD_INDEX_CORRUPT_STATE.
  it('refuses a version whose time is past the year 9999, and takes the latest time it can store', async () => {
    const refused = await app.inject({
      method: 'PUT',
      url: '/v1/replication/changes',
      payload: change('f0f808106641.0bf8e3.j.'),
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.code).toBe('KRAKEN_INVALID_REQUEST');
    // The latest time a version may carry is stored, and read back for the answer.
    const latest = await app.inject({
      method: 'PUT',
      url: '/v1/replication/changes',
      payload: change('e677d21fdbff.000000.a.n'),
    });
    expect(latest.statusCode).toBe(200);
    expect(latest.json()).toEqual({
      applied: true,
      current: { version: 'e677d21fdbff.000000.a.n', deleted: true },
    });
  });
});
