/**
 * The upload session seam: where bytes of an unfinished blob push wait until the
 * client closes the session with the blob's digest. The registry API only talks to
 * this interface; `createFsUploadStore` is the implementation apps use.
 */
import type { Readable } from 'node:stream';
import type { Digest, DigestAlgorithm } from '@kraken/oci-content';

export interface UploadSession {
  /** Unguessable session id; the last segment of the session's Location. */
  readonly id: string;
  readonly repo: string;
  /** Bytes durably received so far; the next chunk must start here. */
  readonly offset: number;
  /** Algorithm hashed incrementally while bytes arrive (the client may still close with another). */
  readonly algorithm: DigestAlgorithm;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface AppendOptions {
  /** When set, the append fails with RangeInvalidError unless the session is at this offset. */
  readonly offset?: number;
  /** When set, the body must carry exactly this many bytes (SizeMismatchError otherwise). */
  readonly length?: number;
  /** Cap on the session's total size (ContentTooLargeError once crossed). */
  readonly maxTotalBytes?: number;
}

export interface AppendResult {
  readonly session: UploadSession;
  /** Bytes this append added. */
  readonly bytes: number;
}

/** The verified content of a finished session, as handed to `RegistryStore.putBlob`. */
export interface VerifiedUpload {
  readonly digest: Digest;
  readonly size: number;
  /** Opens the verified bytes; valid only until the commit callback returns. */
  open(): Readable;
  /**
   * Path of a local file holding the verified bytes, when the upload store keeps one;
   * valid only until the commit callback returns (hard-link it to keep it).
   */
  readonly file?: string;
}

export interface UploadStore {
  create(repo: string, options?: { algorithm?: DigestAlgorithm }): Promise<UploadSession>;
  /** The session if it exists, belongs to `repo` and has not expired. */
  get(repo: string, id: string): Promise<UploadSession | undefined>;
  /**
   * Appends a request body. Either all of it is durably written and the new state is
   * returned, or the session is left exactly as before (a client that disconnects
   * mid-chunk can retry the same chunk). Throws UploadUnknownError, RangeInvalidError,
   * UploadInvalidError (session busy), SizeMismatchError or ContentTooLargeError.
   */
  append(repo: string, id: string, body: Readable, options?: AppendOptions): Promise<AppendResult>;
  /**
   * Verifies the session's bytes against `digest` and hands them to `commit`. On a
   * mismatch the session is discarded and DigestMismatchError thrown. When `commit`
   * succeeds the session is removed; when it fails the session stays for a retry.
   */
  complete(
    repo: string,
    id: string,
    digest: Digest,
    commit: (blob: VerifiedUpload) => Promise<void>,
  ): Promise<VerifiedUpload>;
  /** Discards a session, aborting a write in progress. False when it did not exist. */
  cancel(repo: string, id: string): Promise<boolean>;
  /** Removes expired sessions (and leftovers of a crash); returns how many. */
  sweep(): Promise<number>;
  /** Sweeps now and then periodically. Idempotent. */
  start(): void;
  /** Stops sweeping; sessions on disk survive for the next start. Idempotent. */
  close(): Promise<void>;
}
