import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';

describe('createMetrics', () => {
  it('exports the process memory figures under the prefix, array buffers included', async () => {
    const metrics = createMetrics('demo-app');
    const keep = Buffer.alloc(1024 * 1024, 1);
    const text = await metrics.registry.metrics();
    for (const name of [
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_external_memory_bytes',
    ]) {
      expect(text).toMatch(new RegExp(`^kraken_demo_app_${name} \\d+`, 'm'));
    }
    const arrayBuffers = Number(/^kraken_demo_app_nodejs_array_buffers_bytes (\d+)$/m.exec(text)?.[1]);
    expect(arrayBuffers).toBeGreaterThanOrEqual(keep.length);
  });

  it('leaves the process figures out when asked', async () => {
    const text = await createMetrics('bare', { defaultMetrics: false }).registry.metrics();
    expect(text).not.toMatch(/nodejs_/);
  });
});
