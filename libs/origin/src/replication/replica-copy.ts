/**
 * Copying one blob from this origin's store to another origin: a HEAD first (the
 * copy may be there already, which costs no transfer), then a streamed PUT marked as
 * a replica so the receiver does not replicate it again. The receiver verifies the
 * digest before the copy becomes visible there.
 */
import type { Digest } from '@kraken/oci-content';
import type { Readable } from 'node:stream';
import type { OriginClient } from '../client/client-types.js';

export type ReplicaCopyResult = 'present' | 'copied';

export interface ReplicaCopyOptions {
  readonly target: Pick<OriginClient, 'statBlob' | 'putBlob'>;
  readonly digest: Digest;
  readonly size: number;
  /** Opens the local copy. */
  readonly open: () => Promise<Readable>;
  readonly signal?: AbortSignal | undefined;
  /** The namespace of the original write, for the receiver's backend routing. */
  readonly namespace?: string | undefined;
}

export async function copyReplica(options: ReplicaCopyOptions): Promise<ReplicaCopyResult> {
  const { target, digest, size, signal } = options;
  const existing = await target.statBlob(digest, signal);
  if (existing?.size === size) return 'present';
  const body = await options.open();
  try {
    await target.putBlob(digest, body, {
      size,
      replica: true,
      ...(signal === undefined ? {} : { signal }),
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    });
  } finally {
    body.destroy();
  }
  return 'copied';
}
