/**
 * Replication rules changed at runtime through a's `/v1/replication/rules`, and what
 * goes wrong with them:
 * - a rule created after the pushes backfills the tags b lacks;
 * - a tag deleted through a's proxy is deleted on b by a rule with `deletes: true`,
 *   and stays on b under one without;
 * - a bad rule is a 400 naming the field; a config rule cannot be replaced or deleted (409);
 * - a destination answering garbage, or 500 for one repository's changes, shows the
 *   error in the status and is retried with growing delays, while the rule's other
 *   tasks go through;
 * - a remote that refuses a tag (its blobs were "copied" to origins that are not the
 *   remote's: a's own) shows the refusal, and b never shows the tag, its record or its
 *   blobs; pointing the rule at b's real origins (PUT) then brings it across whole.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClusters, type Clusters } from './support/cluster.js';
import { forward, startFakeRemote, type FakeRemote } from './support/fake-remote.js';
import { deleteTag, pushSmallImage, type PushedImage } from './support/registry-images.js';
import {
  createRule,
  deleteRule,
  drained,
  listRules,
  replaceRule,
  ruleStatus,
  tagOn,
  taskAttempts,
} from './support/replication.js';

let work: string;
let clusters: Clusters;
let aProxy: string;
let aOrigin: string;
let aBuildIndex: string;
let bOrigin: string;
let bBuildIndex: string;
const fakes: FakeRemote[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-replication-rules-'));
  clusters = await startClusters({
    dir: join(work, 'clusters'),
    agents: 0,
    clusters: [
      {
        id: 'a',
        rules: [{ name: 'from-config', repositories: 'config-only/.*', destination: { cluster: 'b' } }],
        // Retries after 250 ms, doubling to 4 s (jitter takes up to 20% off each); backfill
        // only at start and when a rule is created or changed.
        overrides: {
          buildIndex: {
            replication: {
              backfillIntervalSeconds: 0,
              retry: { initialMs: 250, maxMs: 4_000, multiplier: 2 },
            },
          },
        },
      },
      { id: 'b', rules: [{ name: 'to-a', repositories: 'none/.*', destination: { cluster: 'a' } }] },
    ],
  });
  const a = clusters.cluster('a').endpoints;
  const b = clusters.cluster('b').endpoints;
  [aProxy, aOrigin, aBuildIndex] = [a.proxy[0]!, a.origin[0]!, a['build-index'][0]!];
  [bOrigin, bBuildIndex] = [b.origin[0]!, b['build-index'][0]!];
});

afterAll(async () => {
  await Promise.all(fakes.map((fake) => fake.close()));
  await clusters?.stop();
  if (!process.env.KEEP_E2E) await rm(work, { recursive: true, force: true });
});

async function allOnB(images: readonly PushedImage[]): Promise<boolean> {
  const found = await Promise.all(images.map((image) => tagOn(bBuildIndex, image.repo, image.tag)));
  return found.every((digest, i) => digest === images[i]!.manifest);
}

/** The `{error: {code, message}}` body of a /v1/ error answer. */
function errorOf(body: unknown): { code: string; message: string } {
  return (body as { error: { code: string; message: string } }).error;
}

describe('replication rules at runtime', () => {
  it('backfills the tags pushed before a rule was created', async () => {
    const images: PushedImage[] = [];
    for (const tag of ['1', '2', '3']) images.push(await pushSmallImage(aProxy, 'backfill/app', tag));
    expect(await tagOn(bBuildIndex, 'backfill/app', '1')).toBeUndefined();

    const created = await createRule(aBuildIndex, {
      name: 'backfill',
      repositories: 'backfill/.*',
      destination: { discover: bBuildIndex },
    });
    expect(created).toMatchObject({ status: 201, body: { name: 'backfill', source: 'api', deletes: false } });
    await expect.poll(() => allOnB(images), { timeout: 20_000, interval: 200 }).toBe(true);
    await expect
      .poll(async () => drained(await ruleStatus(aBuildIndex, 'backfill')), { timeout: 10_000 })
      .toBe(true);
    expect(await ruleStatus(aBuildIndex, 'backfill')).toMatchObject({ done: 3, failed: 0, lagSeconds: 0 });

    const listed = await listRules(aBuildIndex);
    expect(listed.status).toBe(200);
    const rules = (listed.body as { rules: { name: string; source: string }[] }).rules;
    expect(rules.map((r) => [r.name, r.source])).toEqual([
      ['backfill', 'api'],
      ['from-config', 'config'],
    ]);
  });

  it('replicates a tag deletion with deletes: true, and not with deletes: false', async () => {
    for (const [name, deletes] of [
      ['deletes-on', true],
      ['deletes-off', false],
    ] as const) {
      const created = await createRule(aBuildIndex, {
        name,
        repositories: `${name}/.*`,
        destination: { discover: bBuildIndex },
        deletes,
      });
      expect(created.status).toBe(201);
    }
    const on = await pushSmallImage(aProxy, 'deletes-on/app', 'v1');
    const off = await pushSmallImage(aProxy, 'deletes-off/app', 'v1');
    await expect.poll(() => allOnB([on, off]), { timeout: 20_000, interval: 200 }).toBe(true);
    await expect
      .poll(async () => drained(await ruleStatus(aBuildIndex, 'deletes-off')), { timeout: 10_000 })
      .toBe(true);
    const offDone = (await ruleStatus(aBuildIndex, 'deletes-off')).done;

    // The proxy turns DELETE /v2/<repo>/manifests/<tag> into a tag delete on the build-index.
    expect(await deleteTag(aProxy, 'deletes-off/app', 'v1')).toBe(202);
    expect(await deleteTag(aProxy, 'deletes-on/app', 'v1')).toBe(202);
    expect(await tagOn(aBuildIndex, 'deletes-off/app', 'v1')).toBeUndefined();
    expect(await tagOn(aBuildIndex, 'deletes-on/app', 'v1')).toBeUndefined();

    await expect
      .poll(() => tagOn(bBuildIndex, 'deletes-on/app', 'v1'), { timeout: 20_000, interval: 200 })
      .toBeUndefined();
    // The later delete is through; the earlier one, under deletes: false, queued nothing.
    const offStatus = await ruleStatus(aBuildIndex, 'deletes-off');
    expect(drained(offStatus)).toBe(true);
    expect(offStatus.done).toBe(offDone);
    expect(await tagOn(bBuildIndex, 'deletes-off/app', 'v1')).toBe(off.manifest);
  });

  it('answers a bad rule with 400 naming the field, and protects config rules with 409', async () => {
    const base = { name: 'bad', repositories: 'bad/.*', destination: { discover: bBuildIndex } };
    for (const [field, rule] of [
      ['repositories', { ...base, repositories: 'team/([a-z' }],
      ['tags', { ...base, tags: '*latest' }],
      ['name', { ...base, name: 'Not A Name' }],
      ['destination', { ...base, destination: {} }],
      ['surprise', { ...base, surprise: true }],
    ] as const) {
      const answer = await createRule(aBuildIndex, rule);
      expect(answer.status).toBe(400);
      expect(errorOf(answer.body).code).toBe('KRAKEN_INVALID_REPLICATION_RULE');
      expect(errorOf(answer.body).message).toContain(field);
    }
    const notJson = await createRule(aBuildIndex, '{"name": ');
    expect(notJson.status).toBe(400);

    const replaced = await replaceRule(aBuildIndex, 'from-config', { ...base, name: 'from-config' });
    expect(replaced.status).toBe(409);
    expect(errorOf(replaced.body).code).toBe('KRAKEN_REPLICATION_RULE_PROTECTED');
    expect(errorOf(replaced.body).message).toContain('from-config');
    expect((await deleteRule(aBuildIndex, 'from-config')).status).toBe(409);
    expect((await createRule(aBuildIndex, { ...base, name: 'backfill' })).status).toBe(409);
    expect((await listRules(aBuildIndex)).body).not.toMatchObject({ rules: [{ name: 'bad' }] });
  });

  it('retries a destination that answers garbage or 500s with growing delays; its other tasks go through', async () => {
    // Answers every request with 200 and a page of HTML.
    const garbage = await startFakeRemote((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html><body>hello from a captive portal</body></html>');
    });
    // b's build-index behind a proxy that refuses every change to flaky/bad with a 500.
    let refuseBad = true;
    const flaky = await startFakeRemote(async (request, response) => {
      if (refuseBad && request.method === 'PUT' && request.path === '/v1/replication/changes') {
        const change = JSON.parse(request.body.toString('utf8')) as { repository: string };
        if (change.repository === 'flaky/bad') {
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end('internal server error, try again');
          return;
        }
      }
      await forward(bBuildIndex, request, response);
    });
    fakes.push(garbage, flaky);
    const badChanges = () =>
      flaky.requests.filter((r) => r.path === '/v1/replication/changes' && r.body.includes('"flaky/bad"'));

    expect(
      (
        await createRule(aBuildIndex, {
          name: 'garbage',
          repositories: 'garbage/.*',
          destination: { discover: garbage.url },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await createRule(aBuildIndex, {
          name: 'flaky',
          repositories: 'flaky/.*',
          destination: { buildIndex: [flaky.url], origins: { nodes: [bOrigin], replicas: 1 } },
        })
      ).status,
    ).toBe(201);
    await pushSmallImage(aProxy, 'garbage/app', 'v1');
    const bad = await pushSmallImage(aProxy, 'flaky/bad', 'v1');
    const good = await pushSmallImage(aProxy, 'flaky/good', 'v1');

    // The rule's other task is not held up by the failing one.
    await expect.poll(() => allOnB([good]), { timeout: 20_000, interval: 200 }).toBe(true);
    // Four attempts at flaky/bad: three delays, each about twice the one before.
    await expect
      .poll(() => badChanges().length, { timeout: 20_000, interval: 100 })
      .toBeGreaterThanOrEqual(4);
    const at = badChanges().map((r) => r.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(gaps[1]!).toBeGreaterThan(gaps[0]! * 1.4);
    expect(gaps[2]!).toBeGreaterThan(gaps[1]! * 1.4);
    expect(await taskAttempts(aBuildIndex, 'flaky', 'failed')).toBeGreaterThanOrEqual(3);
    const flakyStatus = await ruleStatus(aBuildIndex, 'flaky');
    expect(flakyStatus).toMatchObject({
      pending: 1,
      failed: 1,
      lastError: { repository: 'flaky/bad', tag: 'v1' },
    });
    expect(flakyStatus.lastError!.message).toMatch(/500|internal server error/i);
    expect(Date.parse(flakyStatus.lastError!.at)).toBeGreaterThan(at[0]!);
    expect(await tagOn(bBuildIndex, 'flaky/bad', 'v1')).toBeUndefined();

    await expect
      .poll(async () => (await ruleStatus(aBuildIndex, 'garbage')).lastError?.message, { timeout: 10_000 })
      .toMatch(/replication\/cluster|json|invalid|content-type/i);
    const garbageStatus = await ruleStatus(aBuildIndex, 'garbage');
    expect(garbageStatus).toMatchObject({ failed: 1, lastError: { repository: 'garbage/app' } });
    await expect
      .poll(() => taskAttempts(aBuildIndex, 'garbage', 'failed'), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(2);

    // The destination heals: the next retry goes through.
    refuseBad = false;
    await expect.poll(() => allOnB([bad]), { timeout: 20_000, interval: 200 }).toBe(true);
    expect((await deleteRule(aBuildIndex, 'garbage')).status).toBe(204);
  });

  it('shows a tag the remote refuses (blobs missing there) as an error, and never half of it on b', async () => {
    // The rule copies blobs into a's own origins: b's build-index finds none of them on b's.
    const created = await createRule(aBuildIndex, {
      name: 'refused',
      repositories: 'refused/.*',
      destination: { buildIndex: [bBuildIndex], origins: { nodes: [aOrigin], replicas: 1 } },
    });
    expect(created.status).toBe(201);
    const image = await pushSmallImage(aProxy, 'refused/app', 'v1');

    const seenOnB: string[] = [];
    const watch = async () => {
      const digest = await tagOn(bBuildIndex, 'refused/app', 'v1');
      if (digest !== undefined) seenOnB.push(digest);
    };
    await expect
      .poll(
        async () => {
          await watch();
          return taskAttempts(aBuildIndex, 'refused', 'failed');
        },
        { timeout: 20_000, interval: 50 },
      )
      .toBeGreaterThanOrEqual(3);
    expect(seenOnB).toEqual([]);
    const status = await ruleStatus(aBuildIndex, 'refused');
    expect(status).toMatchObject({ failed: 1, lastError: { repository: 'refused/app', tag: 'v1' } });
    expect(status.lastError!.message).toMatch(/missing|refused|rejected/i);
    // Neither the manifest's record nor any blob of it reached b.
    const record = await fetch(`${bBuildIndex}/v1/repositories/refused%2Fapp/manifests/${image.manifest}`);
    expect(record.status).toBe(404);
    for (const blob of image.blobs) {
      expect((await fetch(`${bOrigin}/v1/blobs/${blob.digest}`, { method: 'HEAD' })).status).toBe(404);
    }

    // Pointed at b itself, the rule brings the tag across with its blobs.
    const replaced = await replaceRule(aBuildIndex, 'refused', {
      name: 'refused',
      repositories: 'refused/.*',
      destination: { discover: bBuildIndex },
    });
    expect(replaced.status).toBe(200);
    await expect.poll(() => allOnB([image]), { timeout: 20_000, interval: 200 }).toBe(true);
    for (const blob of image.blobs) {
      expect((await fetch(`${bOrigin}/v1/blobs/${blob.digest}`, { method: 'HEAD' })).status).toBe(200);
    }
  });
});
