// When the destination serves a tag: polls an agent of cluster b for the image's manifest by tag
// (GET /v2/<repo>/manifests/<tag>, as a puller would) until it answers with the pushed digest.
// Agents cache only hits, so every poll before the first hit asks b's build-index: the time
// seen is replication's, not the agent's tag TTL.
import { setTimeout as sleep } from 'node:timers/promises';

const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

/**
 * `watch(repo, tag, digest)` resolves with `now()` (ms) of the first poll that saw the digest,
 * and rejects after `timeoutMs`. `now` is the run's clock (ms since its start).
 */
export function createTagWatch({ registry, pollMs, timeoutMs, now, signal }) {
  const served = async (repo, tag, digest) => {
    const res = await fetch(`${registry}/v2/${repo}/manifests/${tag}`, {
      headers: { accept: ACCEPT },
      signal,
    }).catch(() => undefined);
    if (res === undefined) return false;
    await res.arrayBuffer();
    return res.status === 200 && res.headers.get('docker-content-digest') === digest;
  };

  return {
    async watch(repo, tag, digest) {
      const deadline = now() + timeoutMs;
      while (now() < deadline) {
        signal?.throwIfAborted();
        if (await served(repo, tag, digest)) return now();
        await sleep(pollMs, undefined, { signal });
      }
      throw new Error(`${repo}:${tag} not served by ${registry} after ${timeoutMs / 1000} s`);
    },
  };
}
