/**
 * Typed errors of the scheduler, kept beside it as conn/conn-errors.ts is beside the
 * connections; the lib's other errors are errors.ts.
 */
import { KrakenError } from '@kraken/foundation';

/** A download ended because the scheduler closed or the blob left the swarm. */
export class SwarmStoppedError extends KrakenError {
  constructor(digest: string, why: 'closed' | 'aborted' | 'stopped') {
    super('KRAKEN_P2P_SWARM_STOPPED', `swarm download of ${digest} ended: ${why}`, {
      statusCode: 503,
      detail: { digest, why },
    });
  }
}
