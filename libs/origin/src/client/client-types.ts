/**
 * Typed clients of the internal APIs. Implementations use keep-alive HTTP pools
 * (`createHttpPool`), stream bodies both ways, and map /v1/ error bodies to KrakenError subclasses.
 * "Not found" is `undefined`/`false`, never an exception.
 */
import type { Readable } from 'node:stream';
import type { FailoverRing, MembershipListener, RingNode } from '@kraken/hashring';
import type { Digest } from '@kraken/oci-content';
import type { Metainfo } from '@kraken/p2p-core';
import type { UpstreamRef, UpstreamTag } from '../upstream/upstream-ref.js';

/** An upload body: a stream, or a function opening a fresh stream of the same bytes. */
export type BlobBody = Readable | (() => Readable);

export interface PutBlobOptions {
  readonly size?: number;
  readonly signal?: AbortSignal;
  /**
   * The upload is a copy made by another origin (replication): the receiving origin
   * stores it without replicating it further.
   */
  readonly replica?: boolean;
  /** The repository the blob was pushed to; the origin routes its write-back by it. */
  readonly namespace?: string;
}

export interface OriginClient {
  statBlob(digest: Digest, signal?: AbortSignal): Promise<{ size: number } | undefined>;
  /** Streams the blob or an inclusive byte range of it; undefined when absent. */
  getBlob(
    digest: Digest,
    options?: {
      range?: { start: number; end: number };
      signal?: AbortSignal;
      /** Content of an upstream registry: read through the origin's cache from there. */
      upstream?: UpstreamRef;
    },
  ): Promise<Readable | undefined>;
  /**
   * Uploads a blob with one streamed PUT; the origin verifies the digest before it
   * becomes visible. A body given as a function can be opened again, so a client over
   * several origins may retry the upload on another one.
   */
  putBlob(digest: Digest, body: BlobBody, options?: PutBlobOptions): Promise<void>;
  deleteBlob(digest: Digest): Promise<boolean>;
  /** Health of the origin (GET /readiness), for readiness checks. */
  ping(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/**
 * Chunked uploads to an origin (POST/PATCH/PUT /v1/uploads), for writers that receive
 * a blob in pieces. Kept apart from OriginClient so consumers that only read or PUT
 * whole blobs (and their fakes) need not implement it.
 */
export interface OriginUploadClient {
  /** Opens a chunked upload session and returns its id. */
  createUpload(signal?: AbortSignal): Promise<string>;
  /**
   * Appends a chunk that must start at the session's current offset (else a 416
   * KRAKEN_UPLOAD_OUT_OF_ORDER error); returns the new offset.
   */
  uploadChunk(
    uploadId: string,
    body: Readable,
    options: { start: number; size?: number; signal?: AbortSignal },
  ): Promise<number>;
  /** The session's current offset; undefined when there is no such session. */
  uploadOffset(uploadId: string, signal?: AbortSignal): Promise<number | undefined>;
  /** Verifies the uploaded bytes against `digest` and stores the blob, ending the session. */
  commitUpload(uploadId: string, digest: Digest, signal?: AbortSignal): Promise<void>;
  /** Returns false when there was no such session. */
  cancelUpload(uploadId: string): Promise<boolean>;
}

/**
 * The origin's metainfo endpoint (GET /v1/blobs/{digest}/metainfo), for trackers and
 * agents. Kept apart from OriginClient so that fakes of the blob API need not grow.
 * Its shape is p2p-core's MetainfoSource, so a client can feed a tracker directly.
 */
export interface OriginMetainfoClient {
  /** The blob's metainfo, validated; undefined when the origin does not hold the blob. */
  getMetainfo(digest: Digest, signal?: AbortSignal): Promise<Metainfo | undefined>;
}

/**
 * Content of upstream registries through the origins (pull-through). Kept apart from
 * OriginClient so that fakes of the blob API need not grow.
 */
export interface OriginUpstreamClient {
  /**
   * The size of `ref`'s content by digest; the origin starts fetching it from the upstream
   * when it does not hold it. Undefined when the upstream lacks it too.
   */
  statUpstream(digest: Digest, ref: UpstreamRef, signal?: AbortSignal): Promise<{ size: number } | undefined>;
  /** The digest an upstream tag points at; undefined when the upstream has no such tag. */
  resolveUpstreamTag(
    registry: string,
    repository: string,
    tag: string,
    signal?: AbortSignal,
  ): Promise<UpstreamTag | undefined>;
}

/** Asks an origin to seed a blob over P2P (the tracker does, for swarms without an origin). */
export interface OriginSeedClient {
  /**
   * The origin joins the blob's swarm and answers with the address peers dial;
   * undefined when it does not hold the blob. A host of "0.0.0.0" or "::" is
   * replaced by the host of the origin's URL.
   */
  seedBlob(digest: Digest, signal?: AbortSignal): Promise<SeedAnswer | undefined>;
}

export interface SeedAnswer {
  readonly peerId: string;
  readonly host: string;
  readonly port: number;
}

/** The client of one origin. */
export type OriginNodeClient = OriginClient &
  OriginUploadClient &
  OriginMetainfoClient &
  OriginSeedClient &
  OriginUpstreamClient;

/** What the ring client needs of the origin ring; a LiveRing fits. */
export interface OriginRing extends FailoverRing {
  members(): readonly RingNode[];
  /** The first n healthy nodes of the key's order (unhealthy owners replaced). */
  healthyOwners(key: string, n?: number): RingNode[];
  watchMembers?(listener: MembershipListener): () => void;
}
