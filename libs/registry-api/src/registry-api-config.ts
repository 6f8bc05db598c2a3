/**
 * Config of the registry API that apps embed in their own schema: where upload
 * sessions live and how long they may idle, and the request size limits.
 */
import { z } from 'zod';
import { MAX_MANIFEST_BYTES } from '@kraken/oci-content';

const GiB = 1024 * 1024 * 1024;

export const uploadsConfigSchema = z
  .object({
    dir: z
      .string()
      .min(1)
      .default('/tmp/kraken/uploads')
      .describe(
        'Directory for blob upload sessions (one temporary file per session). Use a disk with room for the largest concurrent uploads.',
      ),
    ttlSeconds: z
      .number()
      .int()
      .positive()
      .default(3600)
      .describe('An upload session idle for longer than this is discarded.'),
    sweepIntervalSeconds: z
      .number()
      .int()
      .positive()
      .default(60)
      .describe('How often expired upload sessions are looked for.'),
    maxSessions: z
      .number()
      .int()
      .positive()
      .default(1000)
      .describe('Open upload sessions allowed at once; further uploads get 429 TOOMANYREQUESTS.'),
  })
  .strict()
  .prefault({})
  .describe('Blob upload sessions.');

export const registryLimitsSchema = z
  .object({
    maxManifestBytes: z
      .number()
      .int()
      .positive()
      .max(64 * 1024 * 1024)
      .default(MAX_MANIFEST_BYTES)
      .describe('Largest manifest accepted; larger pushes get 413.'),
    maxUploadBytes: z
      .number()
      .int()
      .positive()
      .default(64 * GiB)
      .describe('Largest blob accepted through an upload session; larger uploads get 413.'),
    maxPageSize: z
      .number()
      .int()
      .positive()
      .max(100_000)
      .default(1000)
      .describe('Most entries one tag or catalog listing returns; a Link header points at the rest.'),
  })
  .strict()
  .prefault({})
  .describe('Request size limits of the registry API.');

export const registryApiConfigSchema = z
  .object({
    uploads: uploadsConfigSchema,
    limits: registryLimitsSchema,
  })
  .strict()
  .prefault({})
  .describe('OCI distribution (registry v2) API.');

export type UploadsConfig = z.output<typeof uploadsConfigSchema>;
export type RegistryLimits = z.output<typeof registryLimitsSchema>;
export type RegistryApiConfig = z.output<typeof registryApiConfigSchema>;
