/**
 * Builds the backend a parsed config selects: one factory per member of the config
 * union (backend-config.ts). The type of `factories` makes a kind without a factory a
 * compile error.
 */
import { createFilesystemBackend } from '../backends/filesystem/filesystem-backend.js';
import { createGcsBackend } from '../backends/gcs/gcs-backend.js';
import { createHttpBackend } from '../backends/http/http-backend.js';
import { createRegistryBackend } from '../backends/registry/registry-backend.js';
import { createS3Backend } from '../backends/s3/s3-backend.js';
import type { StorageBackend } from '../storage-backend.js';
import type { StorageBackendConfig } from './backend-config.js';

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
