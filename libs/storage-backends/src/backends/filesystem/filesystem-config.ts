/**
 * Config of the local filesystem backend (`type: filesystem`), the default backend.
 * `defaultRoot` is the directory of the component that embeds it.
 */
import { z } from 'zod';

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

export type FilesystemBackendConfig = z.output<ReturnType<typeof filesystemBackendSchema>>;
