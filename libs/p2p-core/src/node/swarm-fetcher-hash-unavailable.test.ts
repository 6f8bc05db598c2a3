/**
 * A node that cannot run chained sha256 (its node exports no OpenSSL SHA256_Update, or
 * the FFI does not load) goes straight to the origin for chained metainfo, blaming no
 * peer; plain metainfo still goes through the swarm. No part of this machine fails that
 * way, so the FFI module is replaced by one whose library has no such symbol.
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('koffi', () => ({
  default: {
    load: () => {
      throw new Error('undefined symbol: SHA256_Update');
    },
  },
}));

describe('createSwarmFetcher on a node without chained sha256', () => {
  it('falls back at once for chained metainfo, with the reason, and joins swarms of plain metainfo', async () => {
    const { blob, directDownload, flush, setup } = await import('../testing/swarm-fetcher-harness.js');
    const { digest, metainfo } = blob(4);
    const chained = { ...metainfo, pieceHashing: 'sha256-chain' as const };
    const h = setup({}, () => Promise.resolve(chained));
    const direct = directDownload();
    const fetching = h.fetcher.fetch(digest, { size: chained.size, direct: direct.fn });
    await flush();
    expect(h.scheduler.downloads).toHaveLength(0);
    expect(direct.calls).toBe(1);
    direct.settle(true);
    expect(await fetching).toBe(true);
    const status = h.fetcher.status(digest.value);
    expect(status).toMatchObject({ path: 'fallback', state: 'done' });
    expect(status?.reason).toMatch(
      /^piece hashes cannot be checked: chained sha256 is unavailable on this node: /,
    );
    expect(status?.reason).toContain('undefined symbol: SHA256_Update');

    const plain = blob(4);
    const p = setup({}, () => Promise.resolve(plain.metainfo));
    void p.fetcher.fetch(plain.digest, { size: plain.metainfo.size, direct: directDownload().fn });
    await flush();
    expect(p.scheduler.downloads).toHaveLength(1);
  });
});
