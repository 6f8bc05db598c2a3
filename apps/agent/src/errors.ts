/** Typed errors of the agent's own /v1/ API. */
import { KrakenError } from '@kraken/foundation';

/** The agent holds neither the blob nor a download of it. */
export class BlobNotCachedError extends KrakenError {
  constructor(digest: string) {
    super('KRAKEN_BLOB_NOT_CACHED', `no fetch of ${digest} is known`, {
      statusCode: 404,
      detail: { digest },
    });
  }
}
