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
    process.emit('SIGTERM', 'SIGTERM');
    process.emit('SIGTERM', 'SIGTERM');
    expect(await done).toBe(0);
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
