/**
 * The config block of the tracker ring as agents and origins embed it (`trackers:`):
 * the hash ring's own schema with the devcluster's single tracker as default. One
 * owner per blob is enough: a tracker's state is soft (peers re-announce every
 * interval), so failover only has to agree on the next tracker, not copy anything.
 */
import { createRingConfigSchema, type RingConfig } from '@kraken/hashring';

export const trackerRingSchema = createRingConfigSchema({ nodes: ['127.0.0.1:15003'], replicas: 1 }).describe(
  'The tracker ring: each blob is announced to the tracker owning its digest, and to the next one when that tracker is down.',
);

export type TrackerRingConfig = RingConfig;
