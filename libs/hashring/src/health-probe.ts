/**
 * The default active health probe: GET <node>/health, healthy on any 2xx. The body
 * is discarded unread so that a misbehaving node cannot make the prober buffer it.
 */
import { HealthProbeError } from './errors.js';
import type { RingNode } from './ring-node.js';

/** Resolves when the node is healthy; rejects otherwise. Must honour `signal`. */
export type HealthProbe = (node: RingNode, signal: AbortSignal) => Promise<void>;

export function createHttpHealthProbe(path = '/health'): HealthProbe {
  const suffix = path.startsWith('/') ? path : `/${path}`;
  return async (node, signal) => {
    const url = `${node.url}${suffix}`;
    let response: Response;
    try {
      response = await fetch(url, { signal, redirect: 'manual', headers: { accept: '*/*' } });
    } catch (cause) {
      throw new HealthProbeError(url, signal.aborted ? 'timed out' : 'no answer', cause);
    }
    await response.body?.cancel().catch(() => {});
    if (response.status < 200 || response.status > 299) {
      throw new HealthProbeError(url, `status ${response.status}`);
    }
  };
}
