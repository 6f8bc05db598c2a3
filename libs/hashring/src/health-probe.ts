/**
 * The default active health probe: GET <node>/health, healthy on any 2xx. The body
 * is discarded unread so that a misbehaving node cannot make the prober buffer it.
 * Probes go through the dispatcher given (TLS with the component's client files, for
 * https:// members), else undici's global one.
 */
import { request, type Dispatcher } from 'undici';
import { HealthProbeError } from './errors.js';
import type { RingNode } from './ring-node.js';

/** Resolves when the node is healthy; rejects otherwise. Must honour `signal`. */
export type HealthProbe = (node: RingNode, signal: AbortSignal) => Promise<void>;

export function createHttpHealthProbe(
  path = '/health',
  options: { dispatcher?: Dispatcher } = {},
): HealthProbe {
  const suffix = path.startsWith('/') ? path : `/${path}`;
  return async (node, signal) => {
    const url = `${node.url}${suffix}`;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: 'GET',
        signal,
        headers: { accept: '*/*' },
        ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
      });
    } catch (cause) {
      throw new HealthProbeError(url, signal.aborted ? 'timed out' : 'no answer', cause);
    }
    await response.body.dump().catch(() => {});
    if (response.statusCode < 200 || response.statusCode > 299) {
      throw new HealthProbeError(url, `status ${response.statusCode}`);
    }
  };
}
