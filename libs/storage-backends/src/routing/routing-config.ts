/**
 * Config of namespace routing: the ordered rules, each a namespace pattern, the backend
 * config it selects and the resilience wrapped around that backend.
 */
import { z } from 'zod';
import { backendResilienceSchema } from '../resilience/resilient-backend.js';
import { storageBackendSchema } from './backend-config.js';
import { compilePattern } from './namespace-router.js';

export const namespaceRuleSchema = (options: { defaultRoot?: string } = {}) =>
  z
    .object({
      namespace: z
        .string()
        .min(1)
        .refine(
          (pattern) => {
            try {
              compilePattern(pattern);
              return true;
            } catch {
              return false;
            }
          },
          { message: 'not a valid regular expression' },
        )
        .describe('Regular expression (JavaScript syntax) that must match the whole namespace.'),
      backend: storageBackendSchema(options),
      resilience: backendResilienceSchema.prefault({}),
    })
    .strict()
    .describe('Namespaces matching `namespace` are stored in `backend`.');

/** The routing rules, in order; the default sends every namespace to the default backend. */
export const backendRoutingSchema = (options: { defaultRoot?: string } = {}) =>
  z
    .array(namespaceRuleSchema(options))
    .min(1)
    .prefault([{ namespace: '.*' }])
    .describe('Storage backends by namespace; the first rule whose pattern matches wins.');

export type NamespaceRuleConfig = z.output<ReturnType<typeof namespaceRuleSchema>>;
export type BackendRoutingConfig = z.output<ReturnType<typeof backendRoutingSchema>>;
