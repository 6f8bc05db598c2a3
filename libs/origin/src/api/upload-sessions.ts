/**
 * Chunked upload sessions of the origin, kept as plain files `<uploadsDir>/<uuid>`:
 * the file's length is the session's offset, so sessions survive a restart. Chunks
 * must arrive in order and one at a time; a chunk that fails half-way is cut back off,
 * so the offset only ever moves by whole, acknowledged chunks. Commit streams the file
 * into the content store, which verifies the digest before the blob becomes visible.
 * Stale sessions are swept when new ones are opened, so no timer is needed.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ContentTooLargeError, type Digest } from '@kraken/oci-content';
import type { BlobWriteResult } from '@kraken/storage-backends';
import type { OriginBlobWriteOptions } from '../store/blob-store.js';
import { InvalidRequestError } from '@kraken/service-kit';
import {
  TooManyUploadsError,
  UploadBusyError,
  UploadNotFoundError,
  UploadOutOfOrderError,
} from '../errors.js';
import { UPLOAD_ID_PATTERN } from './contracts.js';
import type { OriginLimits } from './limits.js';

/** A content store's write that may also take the blob's namespace (the origin's store does). */
export interface OriginBlobWriter {
  write(digest: Digest, source: Readable, options?: OriginBlobWriteOptions): Promise<BlobWriteResult>;
  /**
   * Takes in the finished upload file itself (verified, then hard-linked), when the
   * store can: a large upload is then not written to disk a second time.
   */
  adoptFile?(
    digest: Digest,
    file: string,
    options: { size: number; namespace?: string },
  ): Promise<BlobWriteResult>;
}

export interface UploadSessionsOptions {
  readonly dir: string;
  readonly store: OriginBlobWriter;
  readonly limits: OriginLimits;
  /** Milliseconds since the epoch; injected so expiry is testable. */
  readonly now?: () => number;
}

export interface ChunkOptions {
  /** Where the chunk claims to start; must equal the current offset. */
  readonly start?: number;
  /** Exact chunk length, when known (Content-Length / Content-Range). */
  readonly length?: number;
  readonly signal?: AbortSignal;
}

export interface UploadSessions {
  create(): Promise<string>;
  /** Current offset; throws UploadNotFoundError. */
  offset(id: string): Promise<number>;
  /** Appends a chunk and returns the new offset. */
  append(id: string, source: Readable, options?: ChunkOptions): Promise<number>;
  /** Verifies the upload against `digest`, stores it (under `namespace`, if given) and ends the session. */
  commit(id: string, digest: Digest, options?: { namespace?: string }): Promise<BlobWriteResult>;
  /** Returns false when there was no such session. */
  cancel(id: string): Promise<boolean>;
  /** Discards sessions idle longer than the TTL; returns how many. */
  sweep(): Promise<number>;
}

interface Session {
  offset: number;
  touchedAt: number;
  busy: boolean;
}

export function createUploadSessions(options: UploadSessionsOptions): UploadSessions {
  const { dir, store, limits } = options;
  const now = options.now ?? Date.now;
  const ttlMs = limits.uploadTtlSeconds * 1000;
  const sessions = new Map<string, Session>();
  let loading: Promise<void> | undefined;
  let lastSweep = 0;

  // Sessions left by a previous process are adopted, offsets taken from file sizes.
  function load(): Promise<void> {
    loading ??= (async () => {
      await mkdir(dir, { recursive: true });
      for (const name of await readdir(dir)) {
        if (!UPLOAD_ID_PATTERN.test(name)) continue;
        const s = await stat(join(dir, name));
        if (s.isFile()) sessions.set(name, { offset: s.size, touchedAt: s.mtimeMs, busy: false });
      }
    })();
    return loading;
  }

  async function lookup(id: string): Promise<Session> {
    // The id becomes a file name, so it is checked before anything else.
    if (!UPLOAD_ID_PATTERN.test(id))
      throw new InvalidRequestError(`malformed upload id "${id.slice(0, 64)}"`);
    await load();
    const session = sessions.get(id);
    if (session === undefined) throw new UploadNotFoundError(id);
    return session;
  }

  /** Runs `work` with the session marked busy, so chunks and commits never interleave. */
  async function exclusively<T>(id: string, work: (session: Session) => Promise<T>): Promise<T> {
    const session = await lookup(id);
    if (session.busy) throw new UploadBusyError(id);
    session.busy = true;
    try {
      return await work(session);
    } finally {
      session.busy = false;
    }
  }

  async function sweep(): Promise<number> {
    await load();
    lastSweep = now();
    let removed = 0;
    for (const [id, session] of sessions) {
      if (session.busy || now() - session.touchedAt < ttlMs) continue;
      sessions.delete(id);
      await rm(join(dir, id), { force: true });
      removed++;
    }
    return removed;
  }

  return {
    async create() {
      await load();
      if (now() - lastSweep >= Math.min(ttlMs, 60_000)) await sweep();
      if (sessions.size >= limits.maxUploadSessions) throw new TooManyUploadsError(limits.maxUploadSessions);
      const id = randomUUID();
      await writeFile(join(dir, id), new Uint8Array(0), { flag: 'wx' });
      sessions.set(id, { offset: 0, touchedAt: now(), busy: false });
      return id;
    },

    async offset(id) {
      return (await lookup(id)).offset;
    },

    append(id, source, chunk = {}) {
      return exclusively(id, async (session) => {
        if (chunk.start !== undefined && chunk.start !== session.offset) {
          throw new UploadOutOfOrderError(id, session.offset, chunk.start);
        }
        const room = limits.maxBlobBytes - session.offset;
        if (chunk.length !== undefined && chunk.length > room)
          throw new ContentTooLargeError(limits.maxBlobBytes, 'upload');
        const path = join(dir, id);
        const counter = new ChunkCounter(room, limits.maxBlobBytes);
        try {
          await pipeline(
            source,
            counter,
            createWriteStream(path, { flags: 'r+', start: session.offset, flush: true }),
            chunk.signal === undefined ? {} : { signal: chunk.signal },
          );
          if (chunk.length !== undefined && counter.bytes !== chunk.length) {
            throw new InvalidRequestError(
              `chunk has ${counter.bytes} bytes, its headers announced ${chunk.length}`,
            );
          }
        } catch (err) {
          await truncate(path, session.offset);
          throw err;
        }
        session.offset += counter.bytes;
        session.touchedAt = now();
        return session.offset;
      });
    },

    commit(id, digest, commitOptions = {}) {
      return exclusively(id, async (session) => {
        const path = join(dir, id);
        if (store.adoptFile !== undefined) {
          const adopted = await store.adoptFile(digest, path, {
            size: session.offset,
            ...(commitOptions.namespace === undefined ? {} : { namespace: commitOptions.namespace }),
          });
          sessions.delete(id);
          await rm(path, { force: true });
          return adopted;
        }
        const body = createReadStream(path);
        let result: BlobWriteResult;
        try {
          result = await store.write(digest, body, {
            size: session.offset,
            maxSize: limits.maxBlobBytes,
            ...(commitOptions.namespace === undefined ? {} : { namespace: commitOptions.namespace }),
          });
        } finally {
          // A store that refused before reading (e.g. no backend for the namespace) left it open.
          body.destroy();
        }
        sessions.delete(id);
        await rm(path, { force: true });
        return result;
      });
    },

    async cancel(id) {
      try {
        await exclusively(id, async () => {
          sessions.delete(id);
          await rm(join(dir, id), { force: true });
        });
        return true;
      } catch (err) {
        if (err instanceof UploadNotFoundError) return false;
        throw err;
      }
    },

    sweep,
  };
}

/** Counts a chunk's bytes and fails as soon as the upload would outgrow its cap. */
class ChunkCounter extends Transform {
  bytes = 0;
  readonly #room: number;
  readonly #limit: number;

  constructor(room: number, limit: number) {
    super();
    this.#room = room;
    this.#limit = limit;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.byteLength;
    if (this.bytes > this.#room) return callback(new ContentTooLargeError(this.#limit, 'upload'));
    callback(null, chunk);
  }
}
