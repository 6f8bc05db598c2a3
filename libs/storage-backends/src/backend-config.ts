/**
 * Storage backend selection: a zod discriminated union on `type` (one member per
 * backend kind) and the factory that turns a parsed config into a StorageBackend.
 * New kinds (s3, gcs, http, registry) add a schema member and a factory entry.
 */
import { z } from 'zod';
import { createFilesystemBackend } from './filesystem-backend.js';
import { createGcsBackend } from './gcs-backend.js';
import { gcsBackendSchema } from './gcs-config.js';
import { createHttpBackend, httpBackendSchema } from './http-backend.js';
import { createRegistryBackend, registryBackendSchema } from './registry-backend.js';
import { createS3Backend } from './s3-backend.js';
import { s3BackendSchema } from './s3-config.js';
import type { StorageBackend } from './storage-backend.js';

export const filesystemBackendSchema = (defaultRoot = './data') =>
  z
    .object({
      type: z.literal('filesystem').describe('Objects are files under a local directory.'),
      root: z
        .string()
        .min(1)
        .default(defaultRoot)
        .describe('Directory holding the objects; created when missing.'),
    })
    .strict()
    .describe('Local filesystem backend.');

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
export type FilesystemBackendConfig = z.output<ReturnType<typeof filesystemBackendSchema>>;

type BackendFactories = {
  [K in StorageBackendConfig['type']]: (config: Extract<StorageBackendConfig, { type: K }>) => StorageBackend;
};

const factories: BackendFactories = {
  filesystem: (config) => createFilesystemBackend({ root: config.root }),
  http: (config) =>
    createHttpBackend({
      blobUrl: config.blobUrl,
      headers: config.headers,
      ...(config.name === undefined ? {} : { name: config.name }),
    }),
  registry: (config) =>
    createRegistryBackend({
      url: config.url,
      headers: config.headers,
      ...(config.name === undefined ? {} : { name: config.name }),
      ...(config.repository === undefined ? {} : { repository: config.repository }),
      ...(config.username === undefined || config.password === undefined
        ? {}
        : { credentials: { username: config.username, password: config.password } }),
    }),
  s3: (config) => createS3Backend(config),
  gcs: (config) => createGcsBackend(config),
};

/** Builds the backend a parsed config selects. */
export function createBackend(config: StorageBackendConfig): StorageBackend {
  const factory = factories[config.type] as (c: StorageBackendConfig) => StorageBackend;
  return factory(config);
}
