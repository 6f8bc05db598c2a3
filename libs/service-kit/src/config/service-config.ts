/** Config blocks that every component shares: listen address, logging, tracing. */
import { z } from 'zod';

export const listenSchema = (defaultPort: number, defaultHost = '127.0.0.1') =>
  z
    .object({
      host: z.string().default(defaultHost).describe('Address the HTTP server binds to.'),
      port: z.number().int().min(0).max(65535).default(defaultPort).describe('TCP port of the HTTP server.'),
    })
    .strict()
    .prefault({})
    .describe('HTTP listen address.');

export const loggingSchema = z
  .object({
    level: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('Minimum log level.'),
  })
  .strict()
  .prefault({})
  .describe('Structured (pino JSON) logging.');

export const tracingSchema = z
  .object({
    enabled: z.boolean().default(false).describe('Turns OpenTelemetry tracing on.'),
    otlpEndpoint: z
      .string()
      .url()
      .optional()
      .describe('OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces.'),
    sampleRatio: z.number().min(0).max(1).default(1).describe('Fraction of traces sampled.'),
  })
  .strict()
  .prefault({})
  .describe('OpenTelemetry tracing; off unless enabled.');

export type ListenConfig = z.output<ReturnType<typeof listenSchema>>;
export type LoggingConfig = z.output<typeof loggingSchema>;
export type TracingConfig = z.output<typeof tracingSchema>;
