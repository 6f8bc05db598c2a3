/**
 * The config block of the origin ring as every component embeds it (`origins:`): the
 * hash ring's own schema with the devcluster's first origin as default. Each app
 * describes it in its own words (what it uses the ring for); members, replicas and
 * health checks mean the same everywhere, and `replicas` must match the origins' own.
 */
import { createRingConfigSchema, type RingConfig } from '@kraken/hashring';

export const originRingSchema = createRingConfigSchema({
  nodes: ['127.0.0.1:15002'],
  replicas: 3,
  // An origin joins only once it is ready (its store opened), not as soon as it listens.
  healthPath: '/readiness',
});

export type OriginRingConfig = RingConfig;
