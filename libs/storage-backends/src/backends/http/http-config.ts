/**
 * Config of the read-only http backend (`type: http`), and the extra request headers
 * that the registry backend's config shares.
 */
import { z } from 'zod';
import { urlTemplateProblem } from './url-template.js';

export const headersSchema = z
  .record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'not an HTTP header name'), z.string())
  .default({})
  .describe('Extra request headers, e.g. Authorization for a protected mirror.');

export const httpBackendSchema = z
  .object({
    type: z.literal('http').describe('Read-only objects fetched from an HTTP server by URL template.'),
    name: z
      .string()
      .min(1)
      .optional()
      .describe('Name in logs, metrics and readiness (default "http:<origin>").'),
    blobUrl: z
      .string()
      .superRefine((template, ctx) => {
        const problem = urlTemplateProblem(template);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe('URL template of an object, with {digest}, {algorithm}, {hex} or {key} placeholders.'),
    headers: headersSchema,
  })
  .strict()
  .describe('Read-only HTTP backend (e.g. a blob mirror or an artifact server).');

export type HttpBackendConfig = z.output<typeof httpBackendSchema>;
