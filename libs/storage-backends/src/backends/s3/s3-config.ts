/**
 * Config of the S3 backend (AWS S3 and S3-compatible servers such as MinIO). Objects
 * live under `prefix` in one bucket; without static credentials the AWS SDK's default
 * provider chain (environment, shared files, web identity, instance metadata) is used.
 */
import { z } from 'zod';
import { isValidBucketPrefix } from '../bucket-prefix.js';

const MIB = 1024 * 1024;
/** S3's bounds on a multipart part (the last part may be smaller). */
export const S3_MIN_PART_BYTES = 5 * MIB;
export const S3_MAX_PART_BYTES = 5 * 1024 * MIB;

// DNS-compatible bucket names, the rule S3 and MinIO enforce for new buckets.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export const s3BackendSchema = z
  .object({
    type: z.literal('s3').describe('Objects in an S3 (or S3-compatible) bucket.'),
    bucket: z.string().regex(BUCKET, 'not a valid S3 bucket name').default('kraken').describe('Bucket name.'),
    prefix: z
      .string()
      .refine(isValidBucketPrefix, 'must be "/"-separated segments of [A-Za-z0-9._-], without a leading "/"')
      .default('')
      .describe('Key prefix every object is stored under, e.g. "kraken/origin" (no leading "/").'),
    region: z.string().min(1).default('us-east-1').describe('AWS region of the bucket.'),
    endpoint: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('Endpoint URL of an S3-compatible server (e.g. MinIO); AWS when unset.'),
    forcePathStyle: z
      .boolean()
      .default(false)
      .describe('Address buckets as `<endpoint>/<bucket>` rather than `<bucket>.<endpoint>` (MinIO).'),
    credentials: z
      .object({
        accessKeyId: z.string().min(1).describe('Access key id.'),
        secretAccessKey: z.string().min(1).describe('Secret access key.'),
        sessionToken: z.string().min(1).optional().describe('Session token of temporary credentials.'),
      })
      .strict()
      .optional()
      .describe('Static credentials; when unset the AWS default provider chain is used.'),
    partSizeBytes: z
      .int()
      .min(S3_MIN_PART_BYTES)
      .max(S3_MAX_PART_BYTES)
      .default(16 * MIB)
      .describe(
        'Multipart upload part size. A write buffers at most (queueSize + 1) parts; ' +
          'objects up to 10,000 parts can be written (160 GiB at the default).',
      ),
    queueSize: z.int().min(1).max(32).default(4).describe('Parts of one write uploaded concurrently.'),
    maxAttempts: z
      .int()
      .min(1)
      .max(10)
      .default(3)
      .describe('Attempts per S3 request, retried by the SDK on throttling and transient errors.'),
  })
  .strict()
  .describe('S3 backend.');

export type S3BackendConfig = z.output<typeof s3BackendSchema>;
