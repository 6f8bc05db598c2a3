import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManualClock, type ManualClock } from '@kraken/foundation/testing';
import { silentLogger } from '@kraken/service-kit';
import { createTaskQueue, type TaskOutcome, type TaskQueue } from './task-queue.js';
import type { ReplicationTask, TaskChange } from './task-table.js';

let dir: string;
let clock: ManualClock;
const queues: TaskQueue[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'replication-queue-'));
  clock = createManualClock(Date.parse('2030-01-01T00:00:00Z'));
});

afterEach(async () => {
  for (const queue of queues.splice(0)) await queue.close();
  await rm(dir, { recursive: true, force: true });
});

const v = (n: number) => `${n.toString(16).padStart(12, '0')}.000000.a.n`;

function change(tag: string, version: number, extra: Partial<TaskChange> = {}): TaskChange {
  return {
    rule: 'to-b',
    destination: 'discover:http://b',
    repository: 'app',
    tag,
    kind: 'put',
    digest: `sha256:${'a'.repeat(64)}`,
    version: v(version),
    origin: 'a',
    exclude: [],
    ...extra,
  };
}

function open(perform: (task: ReplicationTask) => Promise<TaskOutcome>, concurrency = 2): TaskQueue {
  const queue = createTaskQueue({
    dbPath: join(dir, 'queue.db'),
    concurrency,
    backoff: { initialMs: 1_000, maxMs: 4_000, multiplier: 2, jitter: 0 },
    perform: (task) => perform(task),
    clock,
    logger: silentLogger(),
  });
  queues.push(queue);
  return queue;
}

describe('replication task queue', () => {
  it('keeps one task per tag: a newer change replaces the pending one, an older one changes nothing', async () => {
    const queue = open(async () => ({ bytes: 0 }));
    expect(queue.enqueue(change('v1', 10))).toBe('added');
    await clock.advance(5_000);
    expect(queue.enqueue(change('v1', 20, { kind: 'delete', digest: undefined }))).toBe('replaced');
    expect(queue.enqueue(change('v1', 15))).toBe('unchanged');
    expect(queue.enqueue(change('v1', 20))).toBe('unchanged');
    expect(queue.enqueue(change('v1', 30, { rule: 'other' }))).toBe('added');
    const [task] = queue.tasks();
    expect(task).toMatchObject({ kind: 'delete', digest: undefined, version: v(20), attempts: 0 });
    // The lag counts from the first change the destination is missing.
    expect(task?.enqueuedAt).toBe(Date.parse('2030-01-01T00:00:00Z'));
  });

  it('retries a failing task with capped backoff without holding up the others', async () => {
    const ran: string[] = [];
    const queue = open(async (task) => {
      ran.push(task.tag);
      if (task.tag === 'bad') throw new Error(`refused ${task.tag}`);
      return { bytes: 10 };
    }, 1);
    queue.enqueue(change('bad', 1));
    queue.enqueue(change('good-1', 1));
    queue.start();
    await clock.advance(0);
    queue.enqueue(change('good-2', 1));
    await clock.advance(0);
    expect(ran).toEqual(['bad', 'good-1', 'good-2']);
    const stats = queue.stats('to-b', 'discover:http://b');
    expect(stats).toMatchObject({ pending: 1, inFlight: 0, failing: 1, done: 2, failedAttempts: 1 });
    expect(stats.lastError).toMatchObject({ message: 'refused bad', repository: 'app', tag: 'bad' });
    // 1 s, 2 s, then 4 s (the cap) between attempts.
    for (const [wait, attempts] of [
      [999, 1],
      [1, 2],
      [2_000, 3],
      [4_000, 4],
      [4_000, 5],
    ] as const) {
      await clock.advance(wait);
      expect(ran.filter((tag) => tag === 'bad')).toHaveLength(attempts);
    }
    expect(queue.tasks()[0]).toMatchObject({ tag: 'bad', attempts: 5, lastError: 'refused bad' });
  });

  it('keeps tasks and counters across a reopen of the database', async () => {
    const first = open(async () => {
      throw new Error('down');
    });
    first.enqueue(change('v1', 1));
    first.start();
    await clock.advance(0);
    first.addBytes('to-b', 'discover:http://b', 123);
    await first.close();
    queues.pop();
    const ran: string[] = [];
    const second = open(async (task) => {
      ran.push(task.tag);
      return { bytes: 0 };
    });
    expect(second.tasks()).toEqual([expect.objectContaining({ tag: 'v1', attempts: 1, lastError: 'down' })]);
    second.start();
    await clock.advance(1_000);
    expect(ran).toEqual(['v1']);
    expect(second.idle()).toBe(true);
    expect(second.stats('to-b', 'discover:http://b')).toMatchObject({
      done: 1,
      failedAttempts: 1,
      bytes: 123,
    });
  });

  it('lets a change that arrives during an attempt outlive it', async () => {
    let release: (() => void) | undefined;
    const ran: string[] = [];
    const queue = open(async (task) => {
      ran.push(task.version);
      if (ran.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return { bytes: 0 };
    });
    queue.enqueue(change('v1', 1));
    queue.start();
    await clock.advance(0);
    expect(queue.stats('to-b', 'discover:http://b').inFlight).toBe(1);
    expect(queue.enqueue(change('v1', 2))).toBe('replaced');
    release?.();
    await clock.advance(0);
    await clock.advance(0);
    expect(ran).toEqual([v(1), v(2)]);
    expect(queue.idle()).toBe(true);
  });

  it('runs a task again at the same version when refreshed: after it ran, and during an attempt', async () => {
    let release: (() => void) | undefined;
    const ran: string[] = [];
    const queue = open(async (task) => {
      ran.push(task.exclude.join(','));
      if (ran.length === 2) await new Promise<void>((resolve) => (release = resolve));
      return { bytes: 0 };
    });
    queue.start();
    expect(queue.enqueue(change('v1', 1, { exclude: ['c'] }))).toBe('added');
    await clock.advance(0);
    expect(ran).toHaveLength(1);
    // The same version again is a duplicate, unless it is a refresh (a referrer was added).
    expect(queue.enqueue(change('v1', 1))).toBe('added');
    await clock.advance(0);
    expect(ran).toHaveLength(2);
    expect(queue.enqueue(change('v1', 1, { exclude: ['c'] }))).toBe('unchanged');
    // A refresh during the attempt outlives it, its exclusions narrowed to both changes'.
    expect(queue.enqueue(change('v1', 1, { exclude: ['c', 'd'], refresh: true }))).toBe('replaced');
    expect(queue.enqueue(change('v1', 0, { refresh: true }))).toBe('unchanged');
    release?.();
    await clock.advance(0);
    await clock.advance(0);
    expect(ran).toEqual(['c', '', '']);
    expect(queue.idle()).toBe(true);
    expect(queue.stats('to-b', 'discover:http://b').done).toBe(3);
  });

  it('drops the tasks of a rule, or those for another destination', () => {
    const queue = open(async () => ({ bytes: 0 }));
    queue.enqueue(change('v1', 1));
    queue.enqueue(change('v2', 1, { destination: 'discover:http://c' }));
    queue.enqueue(change('v3', 1, { rule: 'keep' }));
    expect(queue.drop('to-b', 'discover:http://c')).toBe(1);
    expect(queue.tasks().map((t) => t.tag)).toEqual(['v2', 'v3']);
    expect(queue.drop('to-b')).toBe(1);
    expect(queue.tasks().map((t) => t.tag)).toEqual(['v3']);
  });
});
