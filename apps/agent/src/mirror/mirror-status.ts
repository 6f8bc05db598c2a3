/**
 * What the mirror has been doing, per upstream: for the agent's status endpoint
 * (`GET /v1/mirror/status`) and its metrics. Stale answers are counted and the last
 * failure is kept (its message only: upstream credentials live on the origins, and
 * origin errors never carry them).
 */
import type { Metrics } from '@kraken/service-kit';

export type TagResolution = 'cached' | 'resolved' | 'stale' | 'not_found' | 'error';

export interface UpstreamStatus {
  readonly name: string;
  readonly tagsCached: number;
  readonly staleAnswers: number;
  readonly lastStaleAt?: string;
  readonly lastError?: { readonly message: string; readonly at: string };
}

export interface MirrorStatus {
  record(registry: string, result: TagResolution, error?: unknown): void;
  snapshot(tagsCached: (registry: string) => number): UpstreamStatus[];
}

export function createMirrorStatus(names: readonly string[], metrics?: Metrics): MirrorStatus {
  const counter = metrics?.counter(
    'mirror_tag_resolutions_total',
    'Tag resolutions of mirrored registries by result: cached, resolved, stale (served past TTL while failing), not_found, error.',
    ['registry', 'result'] as const,
  );
  const state = new Map(
    names.map((name) => [
      name,
      {
        stale: 0,
        lastStaleAt: undefined as Date | undefined,
        lastError: undefined as { message: string; at: Date } | undefined,
      },
    ]),
  );
  return {
    record(registry, result, error) {
      counter?.inc({ registry, result });
      const entry = state.get(registry);
      if (entry === undefined) return;
      if (result === 'stale') {
        entry.stale += 1;
        entry.lastStaleAt = new Date();
      }
      if (error !== undefined)
        entry.lastError = { message: error instanceof Error ? error.message : String(error), at: new Date() };
    },
    snapshot(tagsCached) {
      return [...state].map(([name, entry]) => ({
        name,
        tagsCached: tagsCached(name),
        staleAnswers: entry.stale,
        ...(entry.lastStaleAt === undefined ? {} : { lastStaleAt: entry.lastStaleAt.toISOString() }),
        ...(entry.lastError === undefined
          ? {}
          : { lastError: { message: entry.lastError.message, at: entry.lastError.at.toISOString() } }),
      }));
    },
  };
}
