/** Limits of the origin's blob API; every one is a config field with a safe default. */
import { z } from 'zod';

const GiB = 1024 * 1024 * 1024;

export const originLimitsSchema = z
  .object({
    maxBlobBytes: z
      .number()
      .int()
      .positive()
      .default(64 * GiB)
      .describe('Largest blob accepted by PUT or a chunked upload (bytes).'),
    maxUploadSessions: z
      .number()
      .int()
      .positive()
      .default(1024)
      .describe('Open chunked upload sessions allowed at once.'),
    uploadTtlSeconds: z
      .number()
      .int()
      .positive()
      .default(24 * 60 * 60)
      .describe('An upload session untouched for this long is discarded.'),
  })
  .strict()
  .prefault({})
  .describe('Limits of the origin blob API.');

export type OriginLimits = z.output<typeof originLimitsSchema>;
