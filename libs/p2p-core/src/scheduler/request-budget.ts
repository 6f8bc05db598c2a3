/**
 * How many piece requests a download keeps outstanding, from its piece length. Every
 * outstanding request is a piece-sized buffer on its way in (assembled from the socket, then
 * written and verified), and piece length grows with the blob, so a count alone would let a
 * download's memory grow with the blob: 8 requests are 4 MiB of a 1 GiB blob's pieces and
 * 16 MiB of a 4 GiB blob's. A byte budget keeps that memory flat; at least two requests stay
 * outstanding, so that a peer always has the next piece to send while one is in flight.
 */
import type { SchedulerLimits } from './scheduler-limits.js';

export function outstandingRequestsFor(
  pieceLength: number,
  limits: Pick<SchedulerLimits, 'maxRequestsPerBlob' | 'maxRequestBytesPerBlob'>,
): number {
  const withinBudget = Math.max(2, Math.floor(limits.maxRequestBytesPerBlob / pieceLength));
  return Math.min(limits.maxRequestsPerBlob, withinBudget);
}
