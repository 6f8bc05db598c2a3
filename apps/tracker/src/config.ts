/** Configuration of the tracker binary. */
import { z } from 'zod';
import { listenSchema, loggingSchema, tracingSchema } from '@kraken/service-kit';

export const configSchema = z
  .object({
    listen: listenSchema(15003),
    logging: loggingSchema,
    tracing: tracingSchema,
  })
  .strict();

export type Config = z.output<typeof configSchema>;
