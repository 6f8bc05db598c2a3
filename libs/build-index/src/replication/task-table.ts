/**
 * The SQLite tables behind the replication queue (task-queue.ts): the tasks, one per
 * (rule, destination, repository, tag), and per (rule, destination) counters that
 * keep the status across restarts. node:sqlite, WAL, fsync on every commit: a task
 * must outlive a power cut just like the tag write that queued it.
 *
 * Versions compare as text (version/tag-version.ts), so "a newer change replaces an
 * older pending one" is one upsert with `WHERE excluded.version > version`, and an
 * attempt settles only the version it ran (`WHERE id = ? AND version = ?`): a change
 * that replaced the task meanwhile stays queued.
 *
 * A change queued with `refresh` (a referrer was added to the tag's closure) runs the
 * task again even at the same version: it bumps the task's `refreshes`, and an attempt
 * settles only the refresh it ran too, so one that was already walking the closure
 * when the referrer came leaves the task queued for another pass.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLOutputValue } from 'node:sqlite';

export type ChangeKind = 'put' | 'delete';

/** A tag change to carry to one destination. */
export interface TaskChange {
  readonly rule: string;
  /** The destination key (rule-config.ts `destinationKey`). */
  readonly destination: string;
  readonly repository: string;
  readonly tag: string;
  readonly kind: ChangeKind;
  /** The manifest a put points the tag at. */
  readonly digest?: string | undefined;
  readonly version: string;
  /** The cluster where the change was first written. */
  readonly origin: string;
  /** Clusters this change must not be sent to (where it came from). */
  readonly exclude: readonly string[];
  /**
   * Run the task again even when one at the same version is queued or running: the
   * tag's closure grew (a referrer was added). Its `exclude` then narrows the task's
   * to the clusters both would skip.
   */
  readonly refresh?: boolean;
}

export interface ReplicationTask extends TaskChange {
  readonly id: number;
  readonly attempts: number;
  /** Wall ms when the oldest change this task stands for was queued. */
  readonly enqueuedAt: number;
  readonly nextAttemptAt: number;
  readonly lastError: string | undefined;
  /** How many times the task was refreshed at its version (`refresh`). */
  readonly refreshes: number;
}

/** What the table knows of one (rule, destination). */
export interface TableStats {
  readonly queued: number;
  /** Tasks whose last attempt failed, waiting for their retry. */
  readonly failing: number;
  readonly oldestEnqueuedAt: number | undefined;
  readonly done: number;
  /** Tasks that had nothing to send (the change came from the destination, or its rule went). */
  readonly skipped: number;
  readonly failedAttempts: number;
  readonly bytes: number;
  readonly lastError: { message: string; at: number; repository: string; tag: string } | undefined;
  readonly lastDoneAt: number | undefined;
}

export interface TaskTable {
  /** Due tasks, oldest first. */
  due(now: number, limit: number): ReplicationTask[];
  /** The tasks next in line, due or not. */
  next(limit: number): ReplicationTask[];
  /** Inserts, replaces an older version, or changes nothing. */
  upsert(change: TaskChange, now: number): 'added' | 'replaced' | 'unchanged';
  /** Deletes the task; counts it as done, or as skipped when nothing had to be sent. */
  succeeded(task: ReplicationTask, now: number, skipped: boolean): void;
  /** Counts blob bytes copied for a (rule, destination), whether or not its task succeeds. */
  addBytes(rule: string, destination: string, bytes: number): void;
  failed(task: ReplicationTask, error: { message: string; nextAttemptAt: number; now: number }): void;
  drop(rule: string, keepDestination?: string): number;
  all(): ReplicationTask[];
  stats(rule: string, destination: string): TableStats;
  isEmpty(): boolean;
  close(): void;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS replication_tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rule TEXT NOT NULL,
    destination TEXT NOT NULL,
    repository TEXT NOT NULL,
    tag TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('put', 'delete')),
    digest TEXT,
    version TEXT NOT NULL,
    origin TEXT NOT NULL,
    exclude TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    enqueued_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    refreshes INTEGER NOT NULL DEFAULT 0,
    UNIQUE (rule, destination, repository, tag)
  );
  CREATE INDEX IF NOT EXISTS replication_tasks_due ON replication_tasks (next_attempt_at, id);
  CREATE TABLE IF NOT EXISTS replication_counters (
    rule TEXT NOT NULL,
    destination TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_at INTEGER,
    last_error_repository TEXT,
    last_error_tag TEXT,
    last_done_at INTEGER,
    PRIMARY KEY (rule, destination)
  );
`;
const SCHEMA_VERSION = 2;

export function openTaskTable(dbPath: string): TaskTable {
  mkdirSync(dirname(dbPath), { recursive: true });
  const db = new DatabaseSync(dbPath);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
  db.exec(SCHEMA);
  migrate(db);

  const rows = (sql: string, ...params: (string | number)[]): ReplicationTask[] =>
    db
      .prepare(sql)
      .all(...params)
      .map(toTask);

  /** Runs `fn` in one transaction: one fsync for its statements. */
  const transaction = (fn: () => void): void => {
    db.exec('BEGIN');
    try {
      fn();
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  };

  const ensureCounters = (task: Pick<TaskChange, 'rule' | 'destination'>): void => {
    db.prepare(
      'INSERT INTO replication_counters (rule, destination) VALUES (?, ?) ON CONFLICT DO NOTHING',
    ).run(task.rule, task.destination);
  };

  return {
    due: (now, limit) =>
      rows(
        'SELECT * FROM replication_tasks WHERE next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?',
        now,
        limit,
      ),

    next: (limit) => rows('SELECT * FROM replication_tasks ORDER BY next_attempt_at, id LIMIT ?', limit),

    upsert(change, now) {
      const key = [change.rule, change.destination, change.repository, change.tag] as const;
      const existing = db
        .prepare(
          'SELECT id, version, exclude FROM replication_tasks WHERE rule = ? AND destination = ? AND repository = ? AND tag = ?',
        )
        .get(...key);
      if (change.refresh === true && existing !== undefined && existing.version === change.version) {
        const held = String(existing.exclude ?? '').split(',');
        const exclude = change.exclude.filter((cluster) => held.includes(cluster));
        db.prepare(
          `UPDATE replication_tasks SET refreshes = refreshes + 1, exclude = ?,
             next_attempt_at = MIN(next_attempt_at, ?) WHERE id = ?`,
        ).run(exclude.join(','), now, Number(existing.id));
        return 'replaced';
      }
      const existed = existing !== undefined;
      // The oldest change's queue time is kept: the lag is how long the destination has been behind.
      const result = db
        .prepare(
          `INSERT INTO replication_tasks
             (rule, destination, repository, tag, kind, digest, version, origin, exclude, enqueued_at, next_attempt_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (rule, destination, repository, tag) DO UPDATE SET
             kind = excluded.kind, digest = excluded.digest, version = excluded.version,
             origin = excluded.origin, exclude = excluded.exclude, attempts = 0,
             next_attempt_at = excluded.next_attempt_at, last_error = NULL
           WHERE excluded.version > replication_tasks.version`,
        )
        .run(
          ...key,
          change.kind,
          change.digest ?? null,
          change.version,
          change.origin,
          change.exclude.join(','),
          now,
          now,
        );
      if (result.changes === 0) return 'unchanged';
      return existed ? 'replaced' : 'added';
    },

    succeeded(task, now, skipped) {
      transaction(() => {
        db.prepare('DELETE FROM replication_tasks WHERE id = ? AND version = ? AND refreshes = ?').run(
          task.id,
          task.version,
          task.refreshes,
        );
        ensureCounters(task);
        db.prepare(
          skipped
            ? 'UPDATE replication_counters SET skipped = skipped + 1 WHERE rule = ? AND destination = ?'
            : 'UPDATE replication_counters SET done = done + 1, last_done_at = ? WHERE rule = ? AND destination = ?',
        ).run(...(skipped ? [] : [now]), task.rule, task.destination);
      });
    },

    addBytes(rule, destination, bytes) {
      transaction(() => {
        ensureCounters({ rule, destination });
        db.prepare(
          'UPDATE replication_counters SET bytes = bytes + ? WHERE rule = ? AND destination = ?',
        ).run(bytes, rule, destination);
      });
    },

    failed(task, error) {
      transaction(() => {
        db.prepare(
          `UPDATE replication_tasks SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?
           WHERE id = ? AND version = ?`,
        ).run(error.nextAttemptAt, error.message, task.id, task.version);
        ensureCounters(task);
        db.prepare(
          `UPDATE replication_counters SET failed_attempts = failed_attempts + 1, last_error = ?,
             last_error_at = ?, last_error_repository = ?, last_error_tag = ?
           WHERE rule = ? AND destination = ?`,
        ).run(error.message, error.now, task.repository, task.tag, task.rule, task.destination);
      });
    },

    drop(rule, keepDestination) {
      const result =
        keepDestination === undefined
          ? db.prepare('DELETE FROM replication_tasks WHERE rule = ?').run(rule)
          : db
              .prepare('DELETE FROM replication_tasks WHERE rule = ? AND destination <> ?')
              .run(rule, keepDestination);
      return Number(result.changes);
    },

    all: () => rows('SELECT * FROM replication_tasks ORDER BY id'),

    stats(rule, destination) {
      const queued = db
        .prepare(
          `SELECT COUNT(*) AS total, SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) AS failing,
             MIN(enqueued_at) AS oldest
           FROM replication_tasks WHERE rule = ? AND destination = ?`,
        )
        .get(rule, destination);
      const counted = db
        .prepare('SELECT * FROM replication_counters WHERE rule = ? AND destination = ?')
        .get(rule, destination);
      const lastError = counted?.last_error;
      return {
        queued: Number(queued?.total ?? 0),
        failing: Number(queued?.failing ?? 0),
        oldestEnqueuedAt: numberOrUndefined(queued?.oldest),
        done: Number(counted?.done ?? 0),
        skipped: Number(counted?.skipped ?? 0),
        failedAttempts: Number(counted?.failed_attempts ?? 0),
        bytes: Number(counted?.bytes ?? 0),
        lastError:
          lastError === null || lastError === undefined
            ? undefined
            : {
                message: String(lastError),
                at: Number(counted?.last_error_at),
                repository: String(counted?.last_error_repository),
                tag: String(counted?.last_error_tag),
              },
        lastDoneAt: numberOrUndefined(counted?.last_done_at),
      };
    },

    isEmpty: () => db.prepare('SELECT 1 FROM replication_tasks LIMIT 1').get() === undefined,

    close: () => db.close(),
  };
}

/** Brings a queue of an earlier schema up to this one. */
function migrate(db: DatabaseSync): void {
  const version = Number(db.prepare('PRAGMA user_version').get()?.user_version ?? 0);
  if (version >= SCHEMA_VERSION) return;
  const columns = db.prepare('PRAGMA table_info(replication_tasks)').all();
  if (!columns.some((column) => column.name === 'refreshes'))
    db.exec('ALTER TABLE replication_tasks ADD COLUMN refreshes INTEGER NOT NULL DEFAULT 0');
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
}

function numberOrUndefined(value: SQLOutputValue | undefined): number | undefined {
  return value === null || value === undefined ? undefined : Number(value);
}

function toTask(record: Record<string, SQLOutputValue>): ReplicationTask {
  const exclude = String(record.exclude ?? '');
  const digest = record.digest;
  const lastError = record.last_error;
  return {
    id: Number(record.id),
    rule: String(record.rule),
    destination: String(record.destination),
    repository: String(record.repository),
    tag: String(record.tag),
    kind: record.kind === 'delete' ? 'delete' : 'put',
    digest: digest === null || digest === undefined ? undefined : String(digest),
    version: String(record.version),
    origin: String(record.origin),
    exclude: exclude === '' ? [] : exclude.split(','),
    attempts: Number(record.attempts),
    enqueuedAt: Number(record.enqueued_at),
    nextAttemptAt: Number(record.next_attempt_at),
    lastError: lastError === null || lastError === undefined ? undefined : String(lastError),
    refreshes: Number(record.refreshes ?? 0),
  };
}
