/** Configuration of the operator binary. */
import { z } from 'zod';
import { listenSchema, loggingSchema, serverTlsSchema, tracingSchema } from '@kraken/service-kit';

export const configSchema = z
  .object({
    listen: listenSchema(15010),
    tls: z
      .object({ server: serverTlsSchema.optional() })
      .strict()
      .prefault({})
      .describe('TLS of the operational endpoints; the operator makes no requests to other components.'),
    logging: loggingSchema,
    tracing: tracingSchema,
  })
  .strict();

export type Config = z.output<typeof configSchema>;

/** Title and intro of docs/config/operator.md, read by tools/docs-config.mjs and by config-docs.test.ts. */
export const configReference = {
  component: 'operator',
  title: 'Operator configuration',
  intro:
    'The operator will reconcile `KrakenCluster` and `ReplicationRule` resources; today it serves only the operational endpoints, so its file holds the service basics. It reads one YAML file, `node apps/operator/dist/main.js --config operator.yaml`; every key is optional, and an empty file (or no `--config`) runs with the defaults below.',
};
