import { describe, expect, it } from 'vitest';
import { createManualClock } from '@kraken/foundation/testing';
import { AuthConfigError } from '../errors.js';
import { createWatchedFile } from './watched-file.js';

function setup(initial: string | undefined) {
  const clock = createManualClock();
  const files = new Map<string, string>();
  if (initial !== undefined) files.set('/etc/users', initial);
  const reloads: Array<string | undefined> = [];
  const file = createWatchedFile({
    path: '/etc/users',
    parse: (text, path) => {
      if (text.includes('bad')) throw new AuthConfigError(`${path}:1: bad line`);
      return text.trim().split(/\s+/);
    },
    intervalMs: 10_000,
    timers: clock,
    readFile: async (path) => {
      const text = files.get(path);
      if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      return text;
    },
    onReload: (_path, err) => reloads.push(err === undefined ? undefined : (err as Error).message),
  });
  return { clock, files, file, reloads };
}

describe('watched file', () => {
  it('loads at start and fails it, naming the file, when it cannot', async () => {
    await expect(setup(undefined).file.start()).rejects.toThrow('/etc/users cannot be read (ENOENT)');
    await expect(setup('bad').file.start()).rejects.toThrow('/etc/users:1: bad line');
    const { file } = setup('alice bob');
    await file.start();
    expect(file.current()).toEqual(['alice', 'bob']);
    file.close();
  });

  it('picks up changes, and keeps the last good contents while the file is broken', async () => {
    const { clock, files, file, reloads } = setup('alice');
    await file.start();
    await clock.advance(10_000);
    expect(reloads).toEqual([]);
    files.set('/etc/users', 'alice carol');
    await clock.advance(10_000);
    expect(file.current()).toEqual(['alice', 'carol']);
    files.set('/etc/users', 'bad');
    await clock.advance(30_000);
    expect(file.current()).toEqual(['alice', 'carol']);
    files.delete('/etc/users');
    await clock.advance(10_000);
    files.set('/etc/users', 'dave');
    await clock.advance(10_000);
    expect(file.current()).toEqual(['dave']);
    // Each failure once, however many polls saw it.
    expect(reloads).toEqual([
      undefined,
      '/etc/users:1: bad line',
      '/etc/users cannot be read (ENOENT)',
      undefined,
    ]);
    file.close();
    expect(clock.pending()).toBe(0);
  });
});
