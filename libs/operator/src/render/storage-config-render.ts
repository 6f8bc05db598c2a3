/**
 * The `storage` block of an origin's or a build-index node's config, from
 * `spec.storage`. The origins share one place in the backend (`<prefix>/origin`: they
 * write back to one store); each build-index node keeps its own state
 * (`<prefix>/build-index-<i>`), as each has its own directory on the filesystem
 * backend; a read-only backend (http, registry) serves only the origins, and the
 * build-index keeps its tags on its volume.
 */
import type { z } from 'zod';
import type { buildIndexConfigSchema, originConfigSchema } from '@kraken/component-configs';
import type { StorageSpec } from '../api/v1alpha1/storage-spec.js';
import { WRITABLE_STORAGE_TYPES } from '../api/v1alpha1/storage-spec.js';
import { secretFile } from './secret-mounts.js';

type StorageConfig = z.input<typeof originConfigSchema>['storage'] &
  z.input<typeof buildIndexConfigSchema>['storage'];

function joinPrefix(prefix: string, segment: string): string {
  return prefix === '' ? segment : `${prefix.replace(/\/+$/, '')}/${segment}`;
}

export function storageConfig(
  storage: StorageSpec,
  member: { readonly component: 'origin' | 'build-index'; readonly index: number; readonly dataDir: string },
): StorageConfig {
  const onVolume: StorageConfig = { type: 'filesystem', root: `${member.dataDir}/store` };
  const place = member.component === 'origin' ? 'origin' : `build-index-${member.index}`;
  if (member.component === 'build-index' && !WRITABLE_STORAGE_TYPES.has(storage.type)) return onVolume;
  switch (storage.type) {
    case 'filesystem':
      return onVolume;
    case 's3': {
      // The keys travel as AWS_* environment variables (secret-mounts.ts).
      const { credentials: _credentials, ...s3 } = storage;
      return { ...s3, prefix: joinPrefix(s3.prefix, place) };
    }
    case 'gcs': {
      const { credentials, ...gcs } = storage;
      return {
        ...gcs,
        prefix: joinPrefix(gcs.prefix, place),
        ...(credentials === undefined ? {} : { credentialsFile: secretFile(credentials) }),
      };
    }
    case 'http':
    case 'registry':
      return storage;
  }
}
