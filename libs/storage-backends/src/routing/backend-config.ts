/**
 * Storage backend selection: a zod union discriminated on `type`, with one member per
 * backend kind, each defined beside its backend. createBackend (create-backend.ts)
 * turns a parsed config into the backend it selects. A new kind adds its schema here
 * and its factory there.
 */
import { z } from 'zod';
import { filesystemBackendSchema } from '../backends/filesystem/filesystem-config.js';
import { gcsBackendSchema } from '../backends/gcs/gcs-config.js';
import { httpBackendSchema } from '../backends/http/http-config.js';
import { registryBackendSchema } from '../backends/registry/registry-config.js';
import { s3BackendSchema } from '../backends/s3/s3-config.js';

/** The storage backend config block; `defaultRoot` is the component's default directory. */
export const storageBackendSchema = (options: { defaultRoot?: string } = {}) =>
  z
    .discriminatedUnion('type', [
      filesystemBackendSchema(options.defaultRoot),
      httpBackendSchema,
      registryBackendSchema,
      s3BackendSchema,
      gcsBackendSchema,
    ])
    .prefault({ type: 'filesystem' })
    .describe('Where blobs are stored; `type` selects the backend.');

export type StorageBackendConfig = z.output<ReturnType<typeof storageBackendSchema>>;
