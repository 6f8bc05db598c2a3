/**
 * Config of the read-only registry backend (`type: registry`): pull-through of blobs
 * and tags from another OCI registry, optionally bound to one repository.
 */
import { z } from 'zod';
import { headersSchema } from '../http/http-config.js';
import { isRepositoryName } from './registry-keys.js';

export const registryBackendSchema = z
  .object({
    type: z.literal('registry').describe('Read-only blobs and tags from another OCI registry.'),
    name: z
      .string()
      .min(1)
      .optional()
      .describe('Name in logs, metrics and readiness (default "registry:<url>").'),
    url: z
      .url({ protocol: /^https?$/ })
      .describe('Base URL of the registry, e.g. https://registry-1.docker.io (the /v2/ API is below it).'),
    repository: z
      .string()
      .refine(isRepositoryName, 'not a valid repository name')
      .optional()
      .describe('Repository of every blob; when absent, the namespace a blob is requested for.'),
    username: z.string().min(1).optional().describe('User for basic auth or for the token service.'),
    password: z.string().optional().describe('Password or access token for `username`.'),
    headers: headersSchema,
  })
  .strict()
  .refine((c) => (c.username === undefined) === (c.password === undefined), {
    message: 'username and password go together',
    path: ['password'],
  })
  .describe('Read-only registry backend: pull-through from another registry.');

export type RegistryBackendConfig = z.output<typeof registryBackendSchema>;
