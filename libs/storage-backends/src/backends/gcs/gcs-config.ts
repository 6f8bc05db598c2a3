/**
 * Config of the GCS backend (Google Cloud Storage, or an emulator such as
 * fake-gcs-server at `endpoint`). Objects live under `prefix` in one bucket. Against
 * Google, credentials come from `credentialsFile` or Application Default Credentials;
 * against a custom endpoint requests are sent unauthenticated unless `credentialsFile`
 * is set (emulators accept no tokens).
 */
import { z } from 'zod';
import { isValidBucketPrefix } from '../bucket-prefix.js';

const MIB = 1024 * 1024;
/** Resumable upload chunks must be multiples of 256 KiB. */
export const GCS_CHUNK_GRANULE_BYTES = 256 * 1024;

// GCS bucket names: lowercase letters, digits, '-', '_' and '.', 3 to 63 characters
// (dotted names may be longer on Google, but not for a kraken bucket).
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

export const gcsBackendSchema = z
  .object({
    type: z.literal('gcs').describe('Objects in a Google Cloud Storage bucket.'),
    bucket: z
      .string()
      .regex(BUCKET, 'not a valid GCS bucket name')
      .default('kraken')
      .describe('Bucket name.'),
    prefix: z
      .string()
      .refine(isValidBucketPrefix, 'must be "/"-separated segments of [A-Za-z0-9._-], without a leading "/"')
      .default('')
      .describe('Object name prefix every object is stored under, e.g. "kraken/origin" (no leading "/").'),
    projectId: z
      .string()
      .min(1)
      .optional()
      .describe('Google Cloud project; inferred from the credentials when unset.'),
    endpoint: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('API endpoint of an emulator or private endpoint, e.g. "http://127.0.0.1:4443".'),
    credentialsFile: z
      .string()
      .min(1)
      .optional()
      .describe('Service account key file (JSON); Application Default Credentials when unset.'),
    chunkSizeBytes: z
      .int()
      .min(GCS_CHUNK_GRANULE_BYTES)
      .max(1024 * MIB)
      .multipleOf(GCS_CHUNK_GRANULE_BYTES)
      .default(16 * MIB)
      .describe('Resumable upload chunk size (a multiple of 256 KiB); a write buffers one chunk.'),
    maxRetries: z
      .int()
      .min(0)
      .max(10)
      .default(3)
      .describe('Retries of idempotent requests and upload chunks on transient errors.'),
  })
  .strict()
  .describe('Google Cloud Storage backend.');

export type GcsBackendConfig = z.output<typeof gcsBackendSchema>;
