/**
 * Bidirectional replication: rules a → b and b → a over the same repositories. The
 * same tags are written on a and on b at the same instant with different content;
 * both clusters end up holding the same value (the newer version) for each, and the
 * tasks both sides ran stay bounded (at most one per write and direction) and stop
 * growing, across several backfill sweeps: no change travels back and forth.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClusters, type Clusters } from './support/cluster.js';
import { buildImage, describeImage, putManifest, uploadBlobs } from './support/registry-images.js';
import {
  drained,
  ruleStatus,
  settledValue,
  tagOn,
  taskAttempts,
  versionedTags,
} from './support/replication.js';

const REPO = 'shared/race';
const TAGS = ['t0', 't1', 't2', 't3', 't4'];
const BACKFILL_SECONDS = 1;

let work: string;
let clusters: Clusters;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kraken-e2e-replication-bidi-'));
  clusters = await startClusters({
    dir: join(work, 'clusters'),
    agents: 0,
    // Backfill sweeps every second compare both sides' listings: they must find nothing to send back.
    overrides: { buildIndex: { replication: { backfillIntervalSeconds: BACKFILL_SECONDS } } },
    clusters: [
      { id: 'a', rules: [{ name: 'to-b', repositories: 'shared/.*', destination: { cluster: 'b' } }] },
      { id: 'b', rules: [{ name: 'to-a', repositories: 'shared/.*', destination: { cluster: 'a' } }] },
    ],
  });
});

afterAll(async () => {
  await clusters?.stop();
  if (!process.env.KEEP_E2E) await rm(work, { recursive: true, force: true });
});

describe('bidirectional replication', () => {
  it('converges concurrent writes of the same tags on a and b, without ping-pong', async () => {
    const a = clusters.cluster('a').endpoints;
    const b = clusters.cluster('b').endpoints;
    const [aBuildIndex, bBuildIndex] = [a['build-index'][0]!, b['build-index'][0]!];

    // Content first on both sides, so that the tag writes themselves race.
    const images = TAGS.map((tag) => ({ tag, a: buildImage(`a:${tag}`), b: buildImage(`b:${tag}`) }));
    for (const image of images) {
      await uploadBlobs(a.proxy[0]!, REPO, image.a);
      await uploadBlobs(b.proxy[0]!, REPO, image.b);
    }
    await Promise.all(
      images.flatMap((image) => [
        putManifest(a.proxy[0]!, REPO, image.tag, image.a),
        putManifest(b.proxy[0]!, REPO, image.tag, image.b),
      ]),
    );

    const both = async () =>
      Promise.all(
        TAGS.map(async (tag) => [await tagOn(aBuildIndex, REPO, tag), await tagOn(bBuildIndex, REPO, tag)]),
      );
    await expect
      .poll(async () => (await both()).every(([onA, onB]) => onA !== undefined && onA === onB), {
        timeout: 20_000,
        interval: 200,
      })
      .toBe(true);
    const converged = await both();
    for (const [i, image] of images.entries()) {
      const candidates = [describeImage(REPO, image.tag, image.a), describeImage(REPO, image.tag, image.b)];
      expect(candidates.map((c) => c.manifest)).toContain(converged[i]![0]);
    }
    // The same version on both sides: the newer write won everywhere.
    const listings = await Promise.all([versionedTags(aBuildIndex, REPO), versionedTags(bBuildIndex, REPO)]);
    const byTag = (listing: (typeof listings)[number]) =>
      Object.fromEntries((listing?.tags ?? []).map((t) => [t.tag, `${t.digest} ${t.version}`]));
    expect(byTag(listings[0])).toEqual(byTag(listings[1]));
    expect(Object.keys(byTag(listings[0])).sort()).toEqual(TAGS);

    // Tasks run (done or skipped) on both sides: bounded by one per local write and
    // direction, and still after three backfill sweeps with nothing in between.
    const sides = [
      [aBuildIndex, 'to-b'],
      [bBuildIndex, 'to-a'],
    ] as const;
    const tasksRun = async () => {
      const counts = await Promise.all(
        sides.flatMap(([node, rule]) => [
          taskAttempts(node, rule, 'done'),
          taskAttempts(node, rule, 'skipped'),
        ]),
      );
      return counts.reduce((sum, n) => sum + n, 0);
    };
    const settled = await settledValue(tasksRun, { quietMs: 3_500 * BACKFILL_SECONDS, timeoutMs: 30_000 });
    expect(settled).toBeGreaterThanOrEqual(TAGS.length);
    expect(settled).toBeLessThanOrEqual(2 * TAGS.length);
    for (const [node, rule] of sides) {
      const status = await ruleStatus(node, rule);
      expect(drained(status)).toBe(true);
      expect(status.done + status.skipped).toBeLessThanOrEqual(TAGS.length);
      expect(status.backfill.lastFinishedAt).not.toBeNull();
    }
  });
});
