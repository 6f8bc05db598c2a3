/**
 * Copying a tag's closure into a destination cluster, before the tag itself:
 *
 * 1. every blob the destination's origin ring lacks (checked with HEAD first) is
 *    streamed from this cluster's origin ring to the destination's, its digest
 *    verified on the way (and again by the receiving origin), within the rule's
 *    bandwidth (a token bucket shared by the rule's tasks) and `blobConcurrency`;
 *    configs and layers first, then the manifests themselves;
 * 2. the manifest records the destination's build-index lacks (child manifests,
 *    referrers), children first: each is accepted there only once its own closure
 *    is on the destination's origins. They name this cluster as their source, so a
 *    referrer among them is never queued back here by the destination.
 *
 * Nothing is held in memory whole: blobs stream through, and a manifest is read only
 * to walk it. Concurrent tasks that need the same blob in the same destination share
 * one copy, so a layer crosses once.
 */
import { pipeline } from 'node:stream';
import type { Timers } from '@kraken/foundation';
import { DigestVerifyStream, type Digest } from '@kraken/oci-content';
import type { OriginClient } from '@kraken/origin';
import { throttle, type TokenBucket } from '@kraken/storage-backends';
import { createLimiter } from '../concurrency-limiter.js';
import { ReplicationSourceMissingError } from '../errors.js';
import type { BuildIndexStore } from '../store/tag-store.js';
import { walkClosure } from './closure-walk.js';
import type { ResolvedRemote } from './remote-cluster.js';

export interface CopyReport {
  /** Blob bytes sent to the destination. */
  readonly bytes: number;
  readonly blobsCopied: number;
  readonly blobsPresent: number;
  readonly recordsCopied: number;
}

export interface ClosureCopier {
  copy(request: {
    readonly repository: string;
    readonly root: Digest;
    /** The destination key; blob copies in flight are shared per destination. */
    readonly destination: string;
    readonly remote: Pick<ResolvedRemote, 'origins' | 'buildIndex'>;
    readonly bucket: TokenBucket | undefined;
    readonly signal: AbortSignal;
    /** Told about each blob as it lands, so bytes count even when a later step fails. */
    readonly onCopied?: (bytes: number) => void;
  }): Promise<CopyReport>;
}

export interface ClosureCopierOptions {
  /** This cluster: records it copies say they come from it, so they are not sent back. */
  readonly clusterId: string;
  readonly origin: Pick<OriginClient, 'getBlob' | 'statBlob'>;
  readonly store: Pick<BuildIndexStore, 'getManifest' | 'listReferrers'>;
  readonly blobConcurrency: number;
  readonly maxDepth: number;
  readonly maxManifests: number;
  readonly timers: Timers;
}

export function createClosureCopier(options: ClosureCopierOptions): ClosureCopier {
  const { origin } = options;
  /** Blob copies in flight, by destination and digest: bytes sent, 0 when it was there. */
  const inFlight = new Map<string, Promise<number>>();

  const sendBlob = async (digest: Digest, request: Parameters<ClosureCopier['copy']>[0]): Promise<number> => {
    const { remote, signal } = request;
    if ((await remote.origins.statBlob(digest, signal)) !== undefined) return 0;
    const stat = await origin.statBlob(digest, signal);
    const body = stat === undefined ? undefined : await origin.getBlob(digest, { signal });
    if (stat === undefined || body === undefined)
      throw new ReplicationSourceMissingError(`blob ${digest.value} is missing on the local origins`, {
        digest: digest.value,
      });
    const verify = new DigestVerifyStream({ expected: digest, expectedSize: stat.size });
    // Errors of either side destroy the other; the upload then fails with them.
    pipeline(body, verify, () => {});
    const source = throttle(verify, request.bucket, options.timers);
    await remote.origins.putBlob(digest, source, { size: stat.size, namespace: request.repository, signal });
    return stat.size;
  };

  const copyBlob = (digest: Digest, request: Parameters<ClosureCopier['copy']>[0]): Promise<number> => {
    const key = `${request.destination} ${digest.value}`;
    const shared = inFlight.get(key);
    if (shared !== undefined) return shared.then(() => 0);
    const copy = sendBlob(digest, request).finally(() => inFlight.delete(key));
    inFlight.set(key, copy);
    return copy;
  };

  return {
    async copy(request) {
      const { repository, remote, signal } = request;
      const closure = await walkClosure({
        origin,
        store: options.store,
        repository,
        root: request.root,
        maxDepth: options.maxDepth,
        maxManifests: options.maxManifests,
        signal,
      });
      const limit = createLimiter(options.blobConcurrency);
      let bytes = 0;
      let blobsCopied = 0;
      let blobsPresent = 0;
      const send = async (digests: readonly Digest[]) => {
        await Promise.all(
          digests.map((digest) =>
            limit(async () => {
              const sent = await copyBlob(digest, request);
              bytes += sent;
              if (sent > 0) request.onCopied?.(sent);
              if (sent > 0) blobsCopied++;
              else blobsPresent++;
            }),
          ),
        );
      };
      await send(closure.blobs);
      await send(closure.manifests.map((manifest) => manifest.digest));
      let recordsCopied = 0;
      for (const { digest, record } of closure.manifests) {
        // The root's record travels with the tag change; a manifest without a record
        // here (an index child pushed by digest elsewhere) has none to copy.
        if (record === undefined || digest.value === request.root.value) continue;
        signal.throwIfAborted();
        if ((await remote.buildIndex.getManifest(repository, digest, signal)) !== undefined) continue;
        await remote.buildIndex.putManifest(repository, record, { replicatedFrom: options.clusterId });
        recordsCopied++;
      }
      return { bytes, blobsCopied, blobsPresent, recordsCopied };
    },
  };
}
