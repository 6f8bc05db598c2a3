/**
 * `spec.storage`: the backend the origins write blobs back to and the build-index keeps
 * tags in. Each variant is the storage-backends lib's own schema, except that no
 * credential is ever written inline: S3 keys and the GCS service account come from
 * Secret keys, which the renderer hands to the pods (S3 through the AWS SDK's
 * environment variables, since the S3 backend reads no credentials file; GCS as a
 * mounted file behind `credentialsFile`). Paths are the renderer's business, so the
 * filesystem variant has no `root`: each origin and build-index node keeps its objects
 * on its own volume.
 */
import { z } from 'zod';
import {
  gcsBackendSchema,
  httpBackendSchema,
  registryBackendSchema,
  s3BackendSchema,
} from '@kraken/storage-backends';
import { secretKeyRefSchema } from './core-types.js';

const filesystemStorageSchema = z
  .object({
    type: z
      .literal('filesystem')
      .describe(
        "Objects are files on each origin's volume (`origins.volume`), and on each build-index node's; durability comes from the ring's copies.",
      ),
  })
  .strict()
  .describe('Blobs on the origins’ own volumes.');

const { credentials: _s3Credentials, ...s3Shape } = s3BackendSchema.shape;
const s3StorageSchema = z
  .object({
    ...s3Shape,
    credentials: z
      .object({
        accessKeyId: secretKeyRefSchema('accessKeyId').describe('Secret key holding the access key id.'),
        secretAccessKey: secretKeyRefSchema('secretAccessKey').describe(
          'Secret key holding the secret access key.',
        ),
        sessionToken: secretKeyRefSchema('sessionToken')
          .optional()
          .describe('Secret key holding the session token of temporary credentials.'),
      })
      .strict()
      .optional()
      .describe(
        "Static credentials from Secret keys, given to the pods as the AWS SDK's environment variables; when unset, the SDK's default chain (e.g. IRSA web identity) is used.",
      ),
  })
  .strict()
  .describe('S3 or an S3-compatible server.');

const { credentialsFile: _gcsCredentialsFile, ...gcsShape } = gcsBackendSchema.shape;
const gcsStorageSchema = z
  .object({
    ...gcsShape,
    credentials: secretKeyRefSchema('credentials.json')
      .optional()
      .describe(
        'Secret key holding a service account key (JSON), mounted as the backend’s `credentialsFile`; Application Default Credentials when unset.',
      ),
  })
  .strict()
  .describe('Google Cloud Storage.');

const { username: _username, password: _password, ...registryShape } = registryBackendSchema.shape;
const registryStorageSchema = z
  .object(registryShape)
  .strict()
  .describe(
    'Read-only pull-through from another registry, anonymously (the backend takes its password inline, which the operator never writes into a ConfigMap; mirror private registries with `origins.upstreams`, whose credentials come from a Secret). The build-index then keeps tags on its own volume.',
  );

const httpStorageSchema = z
  .object(httpBackendSchema.shape)
  .strict()
  .describe('Read-only HTTP server of blobs. The build-index then keeps tags on its own volume.');

export const storageSpecSchema = z
  .discriminatedUnion('type', [
    filesystemStorageSchema,
    s3StorageSchema,
    gcsStorageSchema,
    httpStorageSchema,
    registryStorageSchema,
  ])
  .prefault({ type: 'filesystem' })
  .describe(
    'Where the origins write blobs back to and the build-index keeps tags; `type` selects the backend (filesystem, s3, gcs, http, registry). With s3 and gcs the origins share `prefix`/origin and each build-index node has `prefix`/build-index-<i>.',
  );

export type StorageSpec = z.output<typeof storageSpecSchema>;
/** The storage types the build-index can keep tags in; with the others it uses its volume. */
export const WRITABLE_STORAGE_TYPES: ReadonlySet<StorageSpec['type']> = new Set(['filesystem', 's3', 'gcs']);
