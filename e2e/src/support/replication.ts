/**
 * Helpers of the cross-cluster replication tests: the build-index's replication API
 * (`/v1/replication/status`, `/v1/replication/rules`), what a build-index holds for a
 * tag, a wait for a value to stop changing, and the audit of a cluster's origin
 * storage after crashes.
 */
import { join } from 'node:path';
import { FILESYSTEM_TEMP_DIR } from '@kraken/storage-backends';
import type { Cluster } from './cluster.js';
import { metricSum } from './prometheus-text.js';
import { auditContentStore } from './store-audit.js';

/**
 * One rule of `GET /v1/replication/status` (libs/build-index/src/replication/status.ts):
 * the node's queue for the rule's destination. `pending` counts queued tasks not
 * running, `failed` those of them whose last attempt failed (waiting for their retry),
 * `done` and `skipped` tasks completed, with and without sending anything.
 */
export interface RuleStatus {
  readonly rule: string;
  readonly source: 'config' | 'api';
  readonly enabled: boolean;
  readonly destination: { readonly key: string; readonly clusterId: string | null };
  readonly pending: number;
  readonly inFlight: number;
  readonly done: number;
  /** Tasks that had nothing to send (the destination is where the change came from). */
  readonly skipped: number;
  readonly failed: number;
  readonly bytesCopied: number;
  readonly lastError: { message: string; at: string; repository: string; tag: string } | null;
  readonly lagSeconds: number;
  readonly lastDoneAt: string | null;
  readonly backfill: { readonly running: boolean; readonly lastFinishedAt: string | null };
}

export interface ReplicationStatus {
  readonly clusterId: string;
  readonly node: string;
  readonly rules: readonly RuleStatus[];
}

/** GET /v1/replication/status of a build-index; throws unless it answers 200. */
export async function replicationStatus(buildIndex: string): Promise<ReplicationStatus> {
  const res = await fetch(`${buildIndex}/v1/replication/status`);
  if (res.status !== 200) throw new Error(`GET /v1/replication/status: ${res.status} ${await res.text()}`);
  return (await res.json()) as ReplicationStatus;
}

/** One rule's status on a build-index; throws when the node lists no such rule. */
export async function ruleStatus(buildIndex: string, rule: string): Promise<RuleStatus> {
  const status = await replicationStatus(buildIndex);
  const found = status.rules.find((r) => r.rule === rule);
  if (found === undefined)
    throw new Error(`status lists no rule ${rule} (rules: ${status.rules.map((r) => r.rule).join(', ')})`);
  return found;
}

/** Nothing queued (waiting for a retry included) or running. */
export function drained(status: RuleStatus): boolean {
  return status.pending === 0 && status.inFlight === 0;
}

/** Task attempts of a rule by result (`done`, `skipped`, `failed`), from the node's metrics. */
export function taskAttempts(
  buildIndex: string,
  rule: string,
  result: 'done' | 'skipped' | 'failed',
): Promise<number> {
  return metricSum(buildIndex, 'kraken_build_index_replication_tasks_total', { rule, result });
}

/** A rule as the API takes it. */
export interface RuleInput {
  name: string;
  repositories: string;
  tags?: string;
  destination:
    { discover: string } | { buildIndex: string[]; origins: { nodes: string[]; replicas?: number } };
  deletes?: boolean;
  bandwidthBytesPerSecond?: number;
  enabled?: boolean;
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

async function call(method: string, url: string, body?: unknown): Promise<ApiAnswer> {
  const res = await fetch(url, {
    method,
    ...(body === undefined
      ? {}
      : {
          body: typeof body === 'string' ? body : JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: the text is the body.
  }
  return { status: res.status, body: parsed };
}

/** POST /v1/replication/rules (a string body is sent as is). */
export function createRule(
  buildIndex: string,
  rule: RuleInput | Record<string, unknown> | string,
): Promise<ApiAnswer> {
  return call('POST', `${buildIndex}/v1/replication/rules`, rule);
}

/** PUT /v1/replication/rules/:name. */
export function replaceRule(buildIndex: string, name: string, rule: RuleInput): Promise<ApiAnswer> {
  return call('PUT', `${buildIndex}/v1/replication/rules/${encodeURIComponent(name)}`, rule);
}

/** DELETE /v1/replication/rules/:name. */
export function deleteRule(buildIndex: string, name: string): Promise<ApiAnswer> {
  return call('DELETE', `${buildIndex}/v1/replication/rules/${encodeURIComponent(name)}`);
}

/** GET /v1/replication/rules. */
export function listRules(buildIndex: string): Promise<ApiAnswer> {
  return call('GET', `${buildIndex}/v1/replication/rules`);
}

/** The digest a build-index holds for `repo:tag`, straight from its API (no agent cache); undefined on 404. */
export async function tagOn(buildIndex: string, repo: string, tag: string): Promise<string | undefined> {
  const res = await fetch(
    `${buildIndex}/v1/repositories/${encodeURIComponent(repo)}/tags/${encodeURIComponent(tag)}`,
  ).catch(() => undefined);
  if (res === undefined) return undefined;
  const body = (await res.json().catch(() => undefined)) as { digest?: string } | undefined;
  return res.status === 200 ? body?.digest : undefined;
}

/** A build-index's versioned view of a repository (`GET /v1/replication/tags/:repository`). */
export async function versionedTags(
  buildIndex: string,
  repo: string,
): Promise<{ tags: { tag: string; digest: string; version: string }[] } | undefined> {
  const res = await fetch(`${buildIndex}/v1/replication/tags/${encodeURIComponent(repo)}`);
  if (res.status !== 200) return undefined;
  return (await res.json()) as { tags: { tag: string; digest: string; version: string }[] };
}

/**
 * Polls `read` every `intervalMs` until its value has stayed the same for `quietMs`,
 * and returns that value; throws after `timeoutMs`. It shows that something stopped
 * changing (a counter stopped growing) without a fixed sleep.
 */
export async function settledValue<T>(
  read: () => Promise<T>,
  options: { quietMs: number; timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const key = (value: T) => JSON.stringify(value);
  let last = await read();
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
    const next = await read();
    if (key(next) !== key(last)) {
      last = next;
      since = Date.now();
    } else if (Date.now() - since >= options.quietMs) {
      return last;
    }
  }
  throw new Error(`value still changing after ${options.timeoutMs} ms (last: ${key(last)})`);
}

/** Every origin of a cluster has written back everything it stored (its queue is empty). */
export async function writeBacksDone(cluster: Cluster): Promise<boolean> {
  const depths = await Promise.all(
    cluster.endpoints.origin.map((origin) => metricSum(origin, 'kraken_origin_write_back_queue_depth')),
  );
  return depths.every((depth) => depth === 0);
}

/**
 * Re-hashes every blob file in each origin's storage directory (`origin-<n>/store`) of
 * a cluster: which digests each holds, and the files whose content is not their name.
 * Files in the backend's temp directory are left out: a write killed half-way leaves
 * one there, and no reader ever sees it.
 */
export async function auditOriginStorage(
  cluster: Cluster,
): Promise<{ blobs: Set<string>; problems: string[] }> {
  const blobs = new Set<string>();
  const problems: string[] = [];
  for (let i = 0; i < cluster.endpoints.origin.length; i++) {
    const audit = await auditContentStore(join(cluster.dir, `origin-${i}`, 'store'));
    for (const digest of audit.blobs) blobs.add(digest);
    for (const problem of audit.problems) {
      if (!problem.startsWith(`unexpected file ${FILESYSTEM_TEMP_DIR}/`))
        problems.push(`origin-${i}: ${problem}`);
    }
  }
  return { blobs, problems };
}
