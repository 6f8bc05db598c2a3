import { describe, expect, it } from 'vitest';
import { runService } from './lifecycle.js';
import { silentLogger } from './logger.js';

describe('runService', () => {
  it('closes once on SIGTERM and resolves with exit code 0', async () => {
    let closes = 0;
    const done = runService(
      { start: async () => {}, close: async () => void closes++ },
      { logger: silentLogger() },
    );
    await new Promise((r) => setImmediate(r));
    // As Node emits it: the name and the number (15).
    (process.emit as (event: string, ...args: unknown[]) => boolean)('SIGTERM', 'SIGTERM', 15);
    (process.emit as (event: string, ...args: unknown[]) => boolean)('SIGTERM', 'SIGTERM', 15);
    expect(await done).toBe(0);
    expect(closes).toBe(1);
  });

  it('closes and resolves with exit code 1 when the service reports a failure', async () => {
    let closes = 0;
    let fail: (err: Error) => void = () => {};
    const code = runService(
      {
        start: async () => {},
        close: async () => void closes++,
        failed: new Promise<Error>((resolve) => (fail = resolve)),
      },
      { logger: silentLogger() },
    );
    await new Promise((r) => setImmediate(r));
    fail(new Error('leadership lost'));
    expect(await code).toBe(1);
    expect(closes).toBe(1);
  });

  it('returns 1 when start fails, after closing what was opened', async () => {
    let closed = false;
    const code = await runService(
      {
        start: async () => Promise.reject(new Error('port in use')),
        close: async () => void (closed = true),
      },
      { logger: silentLogger() },
    );
    expect(code).toBe(1);
    expect(closed).toBe(true);
  });
});
