/**
 * Upload sessions on local disk: `<dir>/<id>.data` holds the bytes received so far,
 * `<id>.json` who owns the session and when it was last touched. The digest is hashed
 * incrementally in memory while chunks arrive; after a restart (or a failed chunk) it
 * is recomputed from the file when the session is closed. One request at a time may
 * write to a session; a chunk is either durably appended whole or rolled back.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import {
  ContentTooLargeError,
  createDigester,
  DigestMismatchError,
  DigestVerifyStream,
  type Digest,
  type DigestAlgorithm,
  type Digester,
} from '@kraken/oci-content';
import type { Logger } from '@kraken/service-kit';
import { ChunkMeter } from './chunk-meter.js';
import {
  RangeInvalidError,
  TooManyRequestsError,
  UploadInvalidError,
  UploadUnknownError,
} from '../errors.js';
import type { UploadsConfig } from '../registry-api-config.js';
import type { AppendOptions, UploadSession, UploadStore, VerifiedUpload } from './upload-store.js';

/** Large reads when the verified upload is streamed on (1 MiB chunks cost far less CPU per byte). */
const READ_CHUNK_BYTES = 1024 * 1024;

export interface FsUploadStoreOptions extends Partial<Omit<UploadsConfig, 'dir'>> {
  readonly dir: string;
  /** Milliseconds since the epoch; injectable so tests can expire sessions without waiting. */
  readonly now?: () => number;
  /** Session id source; must produce unguessable ids matching [A-Za-z0-9_-]{16,128}. */
  readonly randomId?: () => string;
  readonly logger?: Pick<Logger, 'debug' | 'warn'>;
  readonly timers?: { setInterval: typeof setInterval; clearInterval: typeof clearInterval };
}

const SESSION_ID = /^[A-Za-z0-9_-]{16,128}$/;

const sessionMetaSchema = z
  .object({
    version: z.literal(1),
    id: z.string().regex(SESSION_ID),
    repo: z.string().min(1),
    algorithm: z.enum(['sha256', 'sha512']),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .strict();

type SessionMeta = z.infer<typeof sessionMetaSchema>;

interface SessionState {
  meta: SessionMeta;
  offset: number;
  /** In step with the first `offset` bytes of the data file, or undefined when unknown. */
  digester: Digester | undefined;
  /** Set while one request writes to or commits the session. */
  busy: AbortController | undefined;
  /** The session is gone for clients; its files go as soon as no request uses them. */
  discard: boolean;
}

export function createFsUploadStore(options: FsUploadStoreOptions): UploadStore {
  const { dir } = options;
  const ttlMs = (options.ttlSeconds ?? 3600) * 1000;
  const sweepMs = (options.sweepIntervalSeconds ?? 60) * 1000;
  const maxSessions = options.maxSessions ?? 1000;
  const now = options.now ?? Date.now;
  const randomId = options.randomId ?? randomUUID;
  const timers = options.timers ?? { setInterval, clearInterval };
  const sessions = new Map<string, SessionState>();
  let dirReady: Promise<void> | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;

  const files = (id: string) => ({
    data: join(dir, `${id}.data`),
    meta: join(dir, `${id}.json`),
    tmp: join(dir, `${id}.json.tmp`),
  });

  function ensureDir(): Promise<void> {
    dirReady ??= mkdir(dir, { recursive: true, mode: 0o700 }).then(
      () => undefined,
      (err: unknown) => {
        dirReady = undefined;
        throw err;
      },
    );
    return dirReady;
  }

  async function writeMeta(meta: SessionMeta): Promise<void> {
    const f = files(meta.id);
    await writeFile(f.tmp, JSON.stringify(meta));
    await rename(f.tmp, f.meta);
  }

  async function removeFiles(id: string): Promise<void> {
    const f = files(id);
    await Promise.all([rm(f.meta, { force: true }), rm(f.tmp, { force: true }), rm(f.data, { force: true })]);
  }

  /** The in-memory state of a session, loading it from disk after a restart. */
  async function load(id: string): Promise<SessionState | undefined> {
    const cached = sessions.get(id);
    if (cached !== undefined) return cached;
    if (!SESSION_ID.test(id)) return undefined;
    const f = files(id);
    let meta: SessionMeta;
    let size: number;
    try {
      const parsed = sessionMetaSchema.safeParse(JSON.parse(await readFile(f.meta, 'utf8')));
      if (!parsed.success || parsed.data.id !== id) return undefined;
      meta = parsed.data;
      size = (await stat(f.data)).size;
    } catch (err) {
      if (isMissing(err) || err instanceof SyntaxError) return undefined;
      throw err;
    }
    // Another request may have loaded it while this one read the files.
    const raced = sessions.get(id);
    if (raced !== undefined) return raced;
    const state: SessionState = { meta, offset: size, digester: undefined, busy: undefined, discard: false };
    sessions.set(id, state);
    return state;
  }

  const isExpired = (s: SessionState): boolean => s.busy === undefined && s.meta.updatedAt + ttlMs <= now();

  async function discardNow(s: SessionState): Promise<void> {
    s.discard = true;
    try {
      await removeFiles(s.meta.id);
    } finally {
      sessions.delete(s.meta.id);
    }
  }

  async function lookup(repo: string, id: string): Promise<SessionState | undefined> {
    const s = await load(id);
    if (s === undefined || s.discard || s.meta.repo !== repo) return undefined;
    if (isExpired(s)) {
      await discardNow(s);
      return undefined;
    }
    return s;
  }

  /** Claims the session for one request; the claim must be released with `release`. */
  async function claim(repo: string, id: string): Promise<{ s: SessionState; signal: AbortSignal }> {
    const s = await lookup(repo, id);
    if (s === undefined) throw new UploadUnknownError(id);
    if (s.busy !== undefined) throw new UploadInvalidError('upload session is busy with another request');
    s.busy = new AbortController();
    return { s, signal: s.busy.signal };
  }

  async function release(s: SessionState): Promise<void> {
    s.busy = undefined;
    if (s.discard) await discardNow(s);
  }

  async function hashFile(path: string, algorithm: DigestAlgorithm, signal: AbortSignal): Promise<Digest> {
    const verify = new DigestVerifyStream({ algorithm });
    const discardAll = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    await pipeline(createReadStream(path), verify, discardAll, { signal });
    return verify.digest;
  }

  const snapshot = ({ meta, offset }: SessionState): UploadSession => ({
    id: meta.id,
    repo: meta.repo,
    offset,
    algorithm: meta.algorithm,
    createdAt: meta.createdAt,
    updatedAt: meta.updatedAt,
  });

  async function sweep(): Promise<number> {
    let removed = 0;
    for (const s of [...sessions.values()]) {
      if (!s.discard && isExpired(s)) {
        await discardNow(s);
        removed++;
      }
    }
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (isMissing(err)) return removed;
      throw err;
    }
    for (const name of names) {
      const match = /^(.+?)\.(json|data|json\.tmp)$/.exec(name);
      const id = match?.[1];
      if (id === undefined || sessions.has(id)) continue;
      const s = await load(id);
      if (s !== undefined) {
        if (isExpired(s)) {
          await discardNow(s);
          removed++;
        }
        continue;
      }
      // A leftover without readable metadata (a crash between writes): remove it once old.
      const info = await stat(join(dir, name)).catch(() => undefined);
      if (info !== undefined && info.mtimeMs + ttlMs <= now()) {
        await rm(join(dir, name), { force: true });
        removed++;
      }
    }
    if (removed > 0) options.logger?.debug({ removed }, 'expired upload sessions removed');
    return removed;
  }

  return {
    async create(repo, createOptions = {}) {
      if (sessions.size >= maxSessions) await sweep();
      if (sessions.size >= maxSessions) {
        throw new TooManyRequestsError(`too many open upload sessions (limit ${maxSessions})`, 60);
      }
      await ensureDir();
      const id = randomId();
      if (!SESSION_ID.test(id) || sessions.has(id))
        throw new Error('randomId produced an unusable session id');
      const at = now();
      const meta: SessionMeta = {
        version: 1,
        id,
        repo,
        algorithm: createOptions.algorithm ?? 'sha256',
        createdAt: at,
        updatedAt: at,
      };
      // Registered (and busy) before its files exist, so a concurrent sweep leaves it alone.
      const state: SessionState = {
        meta,
        offset: 0,
        digester: createDigester(meta.algorithm),
        busy: new AbortController(),
        discard: false,
      };
      sessions.set(id, state);
      try {
        await writeFile(files(id).data, new Uint8Array(0), { flag: 'wx' });
        await writeMeta(meta);
      } catch (err) {
        // Never remove files this call did not create (an id that already existed on disk).
        if ((err as NodeJS.ErrnoException | null)?.code === 'EEXIST') sessions.delete(id);
        else state.discard = true;
        throw err;
      } finally {
        await release(state);
      }
      return snapshot(state);
    },

    async get(repo, id) {
      const s = await lookup(repo, id);
      return s === undefined ? undefined : snapshot(s);
    },

    async append(repo, id, body, appendOptions: AppendOptions = {}) {
      const { s, signal } = await claim(repo, id);
      const start = s.offset;
      try {
        if (appendOptions.offset !== undefined && appendOptions.offset !== start) {
          throw new RangeInvalidError(
            `chunk starts at byte ${appendOptions.offset} but the upload is at ${start}`,
            start,
          );
        }
        const { maxTotalBytes, length } = appendOptions;
        const remaining = maxTotalBytes === undefined ? undefined : maxTotalBytes - start;
        if (remaining !== undefined && length !== undefined && length > remaining) {
          throw new ContentTooLargeError(maxTotalBytes ?? 0, 'upload');
        }
        const meter = new ChunkMeter({
          digester: s.digester,
          maxBytes: remaining,
          uploadLimit: maxTotalBytes,
          expectedBytes: length,
        });
        try {
          // The body's iterator must not destroy the request on failure: the socket is
          // still needed to answer with an error.
          await pipeline(
            body.iterator({ destroyOnReturn: false }),
            meter,
            createWriteStream(files(id).data, { flags: 'r+', start, flush: true }),
            { signal },
          );
        } catch (err) {
          // Roll the chunk back so offset, file and hash state agree again.
          s.digester = undefined;
          await truncate(files(id).data, start).catch(() => undefined);
          throw s.discard ? new UploadUnknownError(id) : err;
        }
        s.offset = start + meter.bytes;
        s.meta = { ...s.meta, updatedAt: now() };
        await writeMeta(s.meta);
        return { session: snapshot(s), bytes: meter.bytes };
      } finally {
        await release(s);
      }
    },

    async complete(repo, id, digest, commit) {
      const { s, signal } = await claim(repo, id);
      try {
        const data = files(id).data;
        let actual: Digest;
        if (s.digester !== undefined && s.meta.algorithm === digest.algorithm) {
          actual = s.digester.digest();
        } else {
          actual = await hashFile(data, digest.algorithm, signal);
        }
        // A finished hash cannot be extended; later appends (after a failed commit) rehash.
        s.digester = undefined;
        if (actual.value !== digest.value) {
          s.discard = true;
          throw new DigestMismatchError(digest.value, actual.value);
        }
        const blob: VerifiedUpload = {
          digest,
          size: s.offset,
          open: () => createReadStream(data, { highWaterMark: READ_CHUNK_BYTES }),
          file: data,
        };
        await commit(blob);
        s.discard = true;
        return blob;
      } finally {
        await release(s);
      }
    },

    async cancel(repo, id) {
      const s = await lookup(repo, id);
      if (s === undefined) return false;
      if (s.busy !== undefined) {
        // The request writing to it fails and its release removes the files.
        s.discard = true;
        s.busy.abort(new UploadUnknownError(id));
        return true;
      }
      await discardNow(s);
      return true;
    },

    sweep,

    start() {
      if (timer !== undefined) return;
      const sweepLogged = (): void => {
        sweep().catch((err: unknown) => options.logger?.warn({ err }, 'upload session sweep failed'));
      };
      // Right away too: a restart may have left expired sessions behind.
      sweepLogged();
      timer = timers.setInterval(sweepLogged, sweepMs);
      timer.unref?.();
    },

    async close() {
      if (timer !== undefined) timers.clearInterval(timer);
      timer = undefined;
    },
  };
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
