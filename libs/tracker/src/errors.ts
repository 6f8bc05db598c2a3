/** Typed errors of the tracker. */
import { KrakenError } from '@kraken/foundation';

/** No origin holds the blob whose metainfo was asked for. */
export class MetainfoNotFoundError extends KrakenError {
  constructor(digest: string) {
    super('KRAKEN_METAINFO_NOT_FOUND', `no metainfo for blob ${digest}: no origin holds it`, {
      statusCode: 404,
      detail: { digest },
    });
  }
}
