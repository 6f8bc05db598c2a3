/**
 * The default active health probe: GET <node>/health, healthy on any 2xx. The answer is
 * judged by its status line alone and its connection closed, so that a misbehaving node
 * cannot make the prober read a body. Probes use Node's own http and https modules, on
 * a fresh connection each: one every few seconds per member needs no pool. https://
 * members are verified with the component's client TLS files when given.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SecureContext } from 'node:tls';
import { HealthProbeError } from './errors.js';
import type { RingNode } from './ring-node.js';

/** Resolves when the node is healthy; rejects otherwise. Must honour `signal`. */
export type HealthProbe = (node: RingNode, signal: AbortSignal) => Promise<void>;

/** The TLS side of probes of https:// members: the client files read last. */
export interface ProbeTls {
  /** Undefined: the system CAs, no client certificate. */
  secureContext(): SecureContext | undefined;
  /** The name the member's certificate must carry, when not the URL's host. */
  readonly serverName?: string | undefined;
}

export function createHttpHealthProbe(
  path = '/health',
  options: { tls?: ProbeTls | undefined } = {},
): HealthProbe {
  const suffix = path.startsWith('/') ? path : `/${path}`;
  return async (node, signal) => {
    const url = `${node.url}${suffix}`;
    let response: IncomingMessage;
    try {
      response = await get(new URL(url), signal, options.tls);
    } catch (cause) {
      throw new HealthProbeError(url, signal.aborted ? 'timed out' : 'no answer', cause);
    }
    response.destroy();
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) throw new HealthProbeError(url, `status ${status}`);
  };
}

function get(url: URL, signal: AbortSignal, tls: ProbeTls | undefined): Promise<IncomingMessage> {
  const secure = url.protocol === 'https:';
  const secureContext = secure ? tls?.secureContext() : undefined;
  const serverName = secure ? tls?.serverName : undefined;
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(url, {
      method: 'GET',
      agent: false,
      signal,
      headers: { accept: '*/*', connection: 'close' },
      ...(secureContext === undefined ? {} : { secureContext }),
      ...(serverName === undefined ? {} : { servername: serverName }),
    });
    req.on('error', reject);
    req.once('response', resolve);
    req.end();
  });
}
