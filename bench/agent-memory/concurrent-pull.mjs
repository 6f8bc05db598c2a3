// The pull a node's container runtime makes, by every agent at once: the manifest by tag, then
// the layer, from each agent's own registry port. Each body is hashed as it streams and thrown
// away, so the bench holds no blob in memory and writes none to disk.
import { createHash } from 'node:crypto';

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** GETs the manifest of `repo:tag` and then `layer` through `agentUrl`; checks the layer's digest and size. */
async function pullOne({ agentUrl, repo, tag, layer, signal }) {
  const started = performance.now();
  const manifest = await fetch(`${agentUrl}/v2/${repo}/manifests/${tag}`, {
    headers: { accept: MANIFEST_TYPES },
    signal,
  });
  if (manifest.status !== 200) throw new Error(`manifest ${repo}:${tag}: ${manifest.status}`);
  const { layers } = await manifest.json();
  if (!layers.some((l) => l.digest === layer.digest)) throw new Error(`manifest lacks ${layer.digest}`);
  const res = await fetch(`${agentUrl}/v2/${repo}/blobs/${layer.digest}`, { signal });
  if (res.status !== 200) throw new Error(`blob ${layer.digest}: ${res.status}`);
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of res.body) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  const digest = `sha256:${hash.digest('hex')}`;
  if (digest !== layer.digest || bytes !== layer.size) {
    throw new Error(`got ${bytes} bytes with ${digest}, want ${layer.size} with ${layer.digest}`);
  }
  return { seconds: (performance.now() - started) / 1000, bytes };
}

/** Every agent pulls at once; resolves with one { agent, seconds } or { agent, error } per agent. */
export function pullEverywhere({ agents, repo, tag, layer, timeoutMs }) {
  const signal = AbortSignal.timeout(timeoutMs);
  return Promise.all(
    agents.map((agent) =>
      pullOne({ agentUrl: agent.url, repo, tag, layer, signal }).then(
        (result) => ({ agent: agent.name, ...result }),
        (err) => ({ agent: agent.name, error: err.message }),
      ),
    ),
  );
}

/** `GET /v1/blobs/<digest>/status` of an agent: how it fetched the blob. */
export async function blobStatus(agentUrl, digest) {
  const res = await fetch(`${agentUrl}/v1/blobs/${digest}/status`);
  return res.status === 200 ? res.json() : { status: res.status };
}
