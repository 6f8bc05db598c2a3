import { describe, expect, it } from 'vitest';
import { startServerProcess, toolBinary } from './server-process.js';

describe('server processes of storage tests', () => {
  it('finds tools in the repository cache', () => {
    expect(toolBinary('minio')).toMatch(/\/\.cache\/bin\/minio$/);
  });

  it('fails with the command that installs a missing tool, rather than skipping', async () => {
    await expect(
      startServerProcess({ tool: 'no-such-tool', args: () => [], readyPath: '/' }),
    ).rejects.toThrow('run `bash tools/install/go-tools.sh no-such-tool`');
  });
});
