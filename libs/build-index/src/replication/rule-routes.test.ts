import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, startTestCluster, type TestCluster } from '../testing/replication-clusters.js';
import { replicationConfigSchema } from './rule-config.js';

let dir: string;
let cluster: TestCluster;

const destination = { discover: 'http://127.0.0.1:15104' };
const fromConfig = { name: 'to-b', repositories: '.*', tags: 'v.*', destination };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'build-index-rules-'));
  cluster = await startTestCluster({
    id: 'a',
    dir,
    ports: await freePorts(1),
    replication: { rules: [fromConfig] },
  });
});

afterEach(async () => {
  await cluster.close();
  await rm(dir, { recursive: true, force: true });
});

function request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) {
  return cluster.nodes[0]!.app.inject({ method, url, ...(payload === undefined ? {} : { payload }) });
}

describe('/v1/replication/rules', () => {
  it('lists config rules with their defaults and source', async () => {
    const listed = await request('GET', '/v1/replication/rules');
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toEqual({
      rules: [
        {
          ...fromConfig,
          deletes: false,
          bandwidthBytesPerSecond: 0,
          enabled: true,
          source: 'config',
        },
      ],
    });
  });

  it('creates, reads, replaces and deletes an API rule', async () => {
    const rule = { name: 'mirror', repositories: 'team/.*', destination };
    const created = await request('POST', '/v1/replication/rules', rule);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ ...rule, deletes: false, enabled: true, source: 'api' });
    expect((await request('GET', '/v1/replication/rules/mirror')).json()).toMatchObject({ source: 'api' });

    // The name may come from the path alone.
    const { name: _name, ...body } = rule;
    const replaced = await request('PUT', '/v1/replication/rules/mirror', { ...body, enabled: false });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ name: 'mirror', enabled: false });
    const made = await request('PUT', '/v1/replication/rules/other', { ...body, deletes: true });
    expect(made.statusCode).toBe(201);
    expect(
      (await request('GET', '/v1/replication/rules'))
        .json<{ rules: { name: string }[] }>()
        .rules.map((r) => r.name),
    ).toEqual(['mirror', 'other', 'to-b']);

    expect((await request('DELETE', '/v1/replication/rules/mirror')).statusCode).toBe(204);
    expect((await request('GET', '/v1/replication/rules/mirror')).statusCode).toBe(404);
    const again = await request('DELETE', '/v1/replication/rules/mirror');
    expect(again.statusCode).toBe(404);
    expect(again.json()).toMatchObject({ error: { code: 'KRAKEN_REPLICATION_RULE_NOT_FOUND' } });
    // A deleted rule's name can be used again.
    expect((await request('POST', '/v1/replication/rules', rule)).statusCode).toBe(201);
  });

  it.each([
    [{ repositories: '(' }, 'repositories: invalid regular expression'],
    [{ tags: '[z-a]' }, 'tags: invalid regular expression'],
    [{ colour: 'blue' }, 'colour: unknown key'],
    [{ destination: { discover: destination.discover, extra: 1 } }, 'destination.extra: unknown key'],
    [
      { destination: { buildIndex: ['http://b:15104'] } },
      'destination.origins: required unless `discover` is set',
    ],
    [{ name: 'Bad_Name' }, 'name: must be 1-63 characters'],
    [{ bandwidthBytesPerSecond: -1 }, 'bandwidthBytesPerSecond'],
  ])('refuses %j with a 400 naming the field', async (change, named) => {
    const response = await request('POST', '/v1/replication/rules', {
      name: 'bad',
      repositories: '.*',
      destination,
      ...change,
    });
    expect(response.statusCode).toBe(400);
    const body = response.json<{ error: { code: string; message: string } }>();
    expect(body.error.code).toBe('KRAKEN_INVALID_REPLICATION_RULE');
    expect(body.error.message).toContain(named);
  });

  it('refuses a duplicate name and changes to config rules with a 409 naming the rule', async () => {
    const duplicate = await request('POST', '/v1/replication/rules', fromConfig);
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json()).toMatchObject({
      error: { code: 'KRAKEN_REPLICATION_RULE_EXISTS', message: expect.stringContaining('to-b') },
    });
    await request('POST', '/v1/replication/rules', { ...fromConfig, name: 'api-rule' });
    expect(
      (await request('POST', '/v1/replication/rules', { ...fromConfig, name: 'api-rule' })).statusCode,
    ).toBe(409);
    for (const method of ['PUT', 'DELETE'] as const) {
      const refused = await request(
        method,
        '/v1/replication/rules/to-b',
        method === 'PUT' ? fromConfig : undefined,
      );
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toMatchObject({
        error: { code: 'KRAKEN_REPLICATION_RULE_PROTECTED', message: expect.stringContaining('to-b') },
      });
    }
    const mismatch = await request('PUT', '/v1/replication/rules/api-rule', { ...fromConfig, name: 'other' });
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.json<{ error: { message: string } }>().error.message).toContain('name: does not match');
  });

  it('keeps API rules in the storage backend across a restart', async () => {
    await request('POST', '/v1/replication/rules', { name: 'kept', repositories: 'x', destination });
    await cluster.nodes[0]!.stop();
    const node = await cluster.restart(0);
    expect((await node.app.inject({ method: 'GET', url: '/v1/replication/rules/kept' })).statusCode).toBe(
      200,
    );
  });
});

describe('replication config', () => {
  it('has defaults for every key', () => {
    expect(replicationConfigSchema.parse({})).toEqual({
      clusterId: 'default',
      concurrency: 4,
      blobConcurrency: 4,
      backfillIntervalSeconds: 60,
      backfillRepositoriesPerSecond: 50,
      requestTimeoutMs: 30_000,
      rulesRefreshSeconds: 5,
      retry: { initialMs: 1_000, maxMs: 60_000, multiplier: 2, jitter: 0.2 },
      rules: [],
    });
  });

  it('refuses duplicate rule names and bad cluster ids', () => {
    const rule = { name: 'x', repositories: '.*', destination };
    expect(() => replicationConfigSchema.parse({ rules: [rule, rule] })).toThrow(/duplicate rule name x/);
    expect(() => replicationConfigSchema.parse({ clusterId: 'A B' })).toThrow(/clusterId|cluster/);
  });
});
