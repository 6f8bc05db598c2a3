/**
 * The replication rules a node applies: the rules of its config file (`source:
 * config`, fixed for the life of the process) and the rules created through the API
 * (`source: api`), which live in the node's storage backend under
 * `_replication/rules/<name>.json` and are replicated to every node of the cluster
 * like tags (rule-sync.ts): each record carries a version from the node's hybrid
 * logical clock, the newer record wins, and a delete leaves a tombstone record so a
 * node that missed it cannot bring the rule back.
 *
 * Why stored and replicated rather than only stored: the nodes of a cluster may share
 * one backend or keep one each (the devcluster gives every node its own directory),
 * and either way every node must apply the same rules. Re-reading the backend
 * (`load`) covers a shared backend; pushing to and pulling from peers covers the rest.
 *
 * Config rules win over API records of the same name, which the API cannot create.
 */
import type { StorageBackend } from '@kraken/storage-backends';
import { z } from 'zod';
import {
  ReplicationRuleExistsError,
  ReplicationRuleNotFoundError,
  ReplicationRuleProtectedError,
} from '../errors.js';
import type { HybridClock } from '../version/hlc.js';
import { CLUSTER_ID_PATTERN, compareVersions, versionSchema } from '../version/tag-version.js';
import { replicationRuleSchema, type ReplicationRule } from './rule-config.js';
import { readStoredJson, writeStoredJson } from '../store/stored-json.js';

export type RuleSource = 'config' | 'api';

/** A rule as the API lists it: the rule and where it comes from. */
export type RuleView = ReplicationRule & { readonly source: RuleSource };
export const ruleViewSchema = replicationRuleSchema.extend({
  source: z.enum(['config', 'api']).describe('The config file (fixed) or the API.'),
});

/** What the backend holds per API rule, and what peers exchange. */
export const ruleRecordSchema = z
  .object({
    name: z.string().regex(CLUSTER_ID_PATTERN),
    version: versionSchema,
    updatedAt: z.iso.datetime({ offset: true }),
    deleted: z.boolean(),
    rule: replicationRuleSchema.optional(),
  })
  .strict()
  .refine((r) => (r.deleted ? r.rule === undefined : r.rule?.name === r.name), {
    message: 'a live record holds the rule of its name; a deleted one holds none',
  });
export type RuleRecord = z.output<typeof ruleRecordSchema>;

export interface RuleStore {
  /** Every rule in effect, by name. */
  list(): RuleView[];
  get(name: string): RuleView | undefined;
  create(rule: ReplicationRule): Promise<RuleView>;
  /** Creates or replaces an API rule; refuses a config rule. */
  replace(name: string, rule: ReplicationRule): Promise<{ rule: RuleView; created: boolean }>;
  remove(name: string): Promise<void>;
  /** The API rules' records, tombstones included (what peers pull). */
  records(): RuleRecord[];
  /** Applies a record from a peer when it is newer; true when it changed anything. */
  apply(record: RuleRecord): Promise<boolean>;
  /** Re-reads every record from the backend. */
  load(): Promise<void>;
  /** Told whenever the rules in effect change. */
  watch(listener: () => void): () => void;
}

export interface RuleStoreOptions {
  readonly backend: StorageBackend;
  readonly clock: HybridClock;
  readonly configRules: readonly ReplicationRule[];
  /** Told about every record this node wrote through the API (to push it to peers). */
  readonly onLocalWrite?: (record: RuleRecord) => Promise<void> | void;
  readonly now?: () => Date;
}

const PREFIX = '_replication/rules/';
const MAX_RECORD_BYTES = 64 * 1024;

export function createRuleStore(options: RuleStoreOptions): RuleStore {
  const { backend, clock } = options;
  const now = options.now ?? (() => new Date());
  const config = new Map(options.configRules.map((rule) => [rule.name, rule]));
  const records = new Map<string, RuleRecord>();
  const listeners = new Set<() => void>();
  let mutations: Promise<unknown> = Promise.resolve();
  let fingerprint = '';

  /** One mutation at a time: a version is chosen and written before the next looks. */
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = mutations.then(fn, fn);
    mutations = next.catch(() => {});
    return next;
  };

  const list = (): RuleView[] => {
    const views: RuleView[] = [...config.values()].map((rule) => ({ ...rule, source: 'config' }));
    for (const record of records.values()) {
      if (!record.deleted && record.rule !== undefined && !config.has(record.name))
        views.push({ ...record.rule, source: 'api' });
    }
    return views.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  };

  const notifyIfChanged = (): void => {
    const next = JSON.stringify(list());
    if (next === fingerprint) return;
    fingerprint = next;
    for (const listener of listeners) listener();
  };

  const read = (key: string): Promise<RuleRecord | undefined> =>
    readStoredJson(backend, key, {
      schema: ruleRecordSchema,
      maxBytes: MAX_RECORD_BYTES,
      notJson: 'not a replication rule record',
      badShape: 'not a replication rule record',
    });

  /** Keeps the record when it is newer than the one held; true when it was. */
  const adopt = async (record: RuleRecord, persist: boolean): Promise<boolean> => {
    clock.observe(record.version);
    const held = records.get(record.name);
    if (held !== undefined && compareVersions(record.version, held.version) <= 0) return false;
    if (persist) await writeStoredJson(backend, `${PREFIX}${record.name}.json`, record);
    records.set(record.name, record);
    return true;
  };

  const writeLocal = async (name: string, rule: ReplicationRule | undefined): Promise<RuleRecord> => {
    const record: RuleRecord = {
      name,
      version: clock.next(records.get(name)?.version),
      updatedAt: now().toISOString(),
      deleted: rule === undefined,
      ...(rule === undefined ? {} : { rule }),
    };
    await adopt(record, true);
    notifyIfChanged();
    await options.onLocalWrite?.(record);
    return record;
  };

  const live = (name: string): RuleRecord | undefined => {
    const record = records.get(name);
    return record === undefined || record.deleted ? undefined : record;
  };

  fingerprint = JSON.stringify(list());

  return {
    list,
    get: (name) => list().find((rule) => rule.name === name),
    records: () => [...records.values()],

    create(rule) {
      return exclusive(async () => {
        if (config.has(rule.name) || live(rule.name) !== undefined)
          throw new ReplicationRuleExistsError(rule.name);
        await writeLocal(rule.name, rule);
        return { ...rule, source: 'api' as const };
      });
    },

    replace(name, rule) {
      return exclusive(async () => {
        if (config.has(name)) throw new ReplicationRuleProtectedError(name);
        const created = live(name) === undefined;
        await writeLocal(name, rule);
        return { rule: { ...rule, source: 'api' as const }, created };
      });
    },

    remove(name) {
      return exclusive(async () => {
        if (config.has(name)) throw new ReplicationRuleProtectedError(name);
        if (live(name) === undefined) throw new ReplicationRuleNotFoundError(name);
        await writeLocal(name, undefined);
      });
    },

    apply(record) {
      return exclusive(async () => {
        const changed = await adopt(record, true);
        if (changed) notifyIfChanged();
        return changed;
      });
    },

    load() {
      return exclusive(async () => {
        let continuationToken: string | undefined;
        do {
          const page = await backend.list({
            prefix: PREFIX,
            limit: 1000,
            ...(continuationToken ? { continuationToken } : {}),
          });
          for (const key of page.keys) {
            const record = await read(key);
            if (record !== undefined) await adopt(record, false);
          }
          continuationToken = page.continuationToken;
        } while (continuationToken !== undefined);
        notifyIfChanged();
      });
    },

    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
