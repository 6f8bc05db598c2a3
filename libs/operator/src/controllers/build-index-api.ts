/**
 * The operator's client of a cluster's build-index replication API: read, replace and
 * delete one rule, and read a node's replication status. The in-cluster addresses it
 * is given can be mapped to others (`serviceAddresses`), for an operator that runs
 * outside the cluster and reaches the build-index through a tunnel or a port-forward.
 */
import { replicationStatusSchema, ruleViewSchema, type ReplicationStatus } from '@kraken/build-index';
import type { ReplicationRule as BuildIndexRule } from '@kraken/build-index';
import {
  createJsonApiClient,
  errorFromResponse,
  type JsonApiClient,
  type ClientTlsContext,
} from '@kraken/service-kit';

export interface BuildIndexApi {
  /** The rule as the node at `baseUrl` holds it; undefined when it has none of that name. */
  getRule(baseUrl: string, name: string, signal: AbortSignal): Promise<BuildIndexRule | undefined>;
  putRule(baseUrl: string, rule: BuildIndexRule, signal: AbortSignal): Promise<void>;
  /** False when the node had no such rule. */
  deleteRule(baseUrl: string, name: string, signal: AbortSignal): Promise<boolean>;
  status(baseUrl: string, signal: AbortSignal): Promise<ReplicationStatus>;
  close(): Promise<void>;
}

export interface BuildIndexApiOptions {
  /** `host:port` of an in-cluster address → the `host:port` to dial instead. */
  readonly serviceAddresses?: Readonly<Record<string, string>>;
  /** TLS with the operator's client certificate (`createClientTls`). */
  readonly tls?: ClientTlsContext | undefined;
  readonly timeoutMs?: number;
}

const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export function createBuildIndexApi(options: BuildIndexApiOptions = {}): BuildIndexApi {
  const clients = new Map<string, JsonApiClient>();
  const clientFor = (baseUrl: string): JsonApiClient => {
    const url = new URL(baseUrl);
    const mapped = options.serviceAddresses?.[url.host];
    if (mapped !== undefined) url.host = mapped;
    const key = url.origin;
    let client = clients.get(key);
    if (client === undefined) {
      client = createJsonApiClient({
        url: key,
        timeoutMs: options.timeoutMs ?? 10_000,
        maxResponseBytes: MAX_RESPONSE_BYTES,
        connections: 1,
        tls: options.tls,
      });
      clients.set(key, client);
    }
    return client;
  };
  const rulePath = (name: string) => `/v1/replication/rules/${encodeURIComponent(name)}`;

  return {
    async getRule(baseUrl, name, signal) {
      const view = await clientFor(baseUrl).json({ method: 'GET', path: rulePath(name) }, ruleViewSchema, {
        signal,
      });
      if (view === undefined) return undefined;
      const { source: _source, ...rule } = view;
      return rule;
    },
    async putRule(baseUrl, rule, signal) {
      const res = await clientFor(baseUrl).send(
        { method: 'PUT', path: rulePath(rule.name), body: rule },
        signal,
      );
      if (res.statusCode !== 200 && res.statusCode !== 201)
        throw await errorFromResponse(res.statusCode, res.body);
      await res.body.dump();
    },
    async deleteRule(baseUrl, name, signal) {
      const res = await clientFor(baseUrl).send({ method: 'DELETE', path: rulePath(name) }, signal);
      if (res.statusCode !== 204 && res.statusCode !== 200 && res.statusCode !== 404)
        throw await errorFromResponse(res.statusCode, res.body);
      await res.body.dump();
      return res.statusCode !== 404;
    },
    async status(baseUrl, signal) {
      const status = await clientFor(baseUrl).json(
        { method: 'GET', path: '/v1/replication/status' },
        replicationStatusSchema,
        { signal, notFound: 'error' },
      );
      return status as ReplicationStatus;
    },
    async close() {
      const all = [...clients.values()];
      clients.clear();
      await Promise.all(all.map((c) => c.close()));
    },
  };
}
