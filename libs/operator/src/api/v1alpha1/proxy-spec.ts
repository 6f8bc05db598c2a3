/**
 * `spec.proxy`: the push side, a Deployment behind a Service. Its authentication is the
 * proxy's own `auth` block (registry-api), with every file it reads (htpasswd, groups,
 * the token issuer's public key) taken from a Secret key that the renderer mounts.
 */
import { z } from 'zod';
import { registryAuthConfigSchema } from '@kraken/registry-api';
import { resourcesSchema, secretKeyRefSchema } from './core-types.js';
import { secretNameSchema } from './component-specs.js';

const authShape = registryAuthConfigSchema.unwrap().shape;

const htpasswdSpecSchema = z
  .object({
    secret: secretKeyRefSchema('htpasswd').describe(
      'Secret key holding the htpasswd file (`htpasswd -B`: bcrypt only), re-read when the Secret changes.',
    ),
    groups: secretKeyRefSchema('groups')
      .optional()
      .describe('Secret key holding the groups of the users, one `group: user1 user2` per line.'),
    realm: z.string().min(1).default('kraken').describe('Realm of the Basic challenge.'),
  })
  .strict()
  .describe('Basic authentication of pushes against an htpasswd file.');

const tokenSpecSchema = z
  .object({
    realm: z
      .url()
      .describe('URL of the token service clients get tokens from, e.g. https://auth.example.com/token.'),
    service: z
      .string()
      .min(1)
      .describe('Name of this registry at the token service; the audience every token must carry.'),
    issuer: z.string().min(1).describe('Issuer (`iss`) every token must carry.'),
    publicKey: secretKeyRefSchema('tls.crt')
      .optional()
      .describe("Secret key holding the issuer's PEM public key or certificate. Set this or `jwksUrl`."),
    jwksUrl: z
      .url()
      .optional()
      .describe("https URL of the issuer's JSON Web Key Set. Set this or `publicKey`."),
    groupsClaim: z.string().min(1).optional().describe('Claim listing the groups of the token subject.'),
    leewaySeconds: z
      .number()
      .int()
      .min(0)
      .default(30)
      .describe('Clock skew tolerated when checking `exp` and `nbf`.'),
  })
  .strict()
  .refine((token) => (token.publicKey === undefined) !== (token.jwksUrl === undefined), {
    message: 'set exactly one of publicKey and jwksUrl',
    path: ['publicKey'],
  })
  .describe('Bearer tokens of the registry token flow (JWTs signed by the issuer).');

export const proxyAuthSpecSchema = z
  .object({
    htpasswd: htpasswdSpecSchema.optional(),
    token: tokenSpecSchema.optional(),
    rules: authShape.rules,
    anonymousPull: authShape.anonymousPull,
  })
  .strict()
  .prefault({})
  .refine(
    (auth) =>
      auth.htpasswd !== undefined ||
      auth.token !== undefined ||
      (auth.rules.length === 0 && auth.anonymousPull.length === 0),
    { message: 'rules and anonymousPull need htpasswd or token', path: ['rules'] },
  )
  .describe(
    'Authentication and per-repository authorization of the proxy; off unless `htpasswd` or `token` is set.',
  );

export const proxySpecSchema = z
  .object({
    replicas: z.number().int().min(0).default(2).describe('Pods of the proxy Deployment; 0 stops pushes.'),
    service: z
      .object({
        type: z
          .enum(['ClusterIP', 'NodePort', 'LoadBalancer'])
          .default('ClusterIP')
          .describe('Type of the proxy Service.'),
        port: z.number().int().min(1).max(65535).default(15000).describe('Port of the proxy Service.'),
        nodePort: z
          .number()
          .int()
          .min(1)
          .max(65535)
          .optional()
          .describe('Node port, with type NodePort or LoadBalancer; allocated by Kubernetes when unset.'),
      })
      .strict()
      .prefault({})
      .describe('The Service pushes reach the proxy through.'),
    auth: proxyAuthSpecSchema,
    tls: z
      .object({
        secretName: secretNameSchema.describe(
          'Secret of type kubernetes.io/tls (`tls.crt`, `tls.key`) the proxy serves HTTPS with, e.g. a publicly trusted certificate of the registry name.',
        ),
      })
      .strict()
      .optional()
      .describe(
        "HTTPS certificate of the proxy's listener; when unset the proxy serves its `spec.tls` certificate, or plain HTTP without `spec.tls`.",
      ),
    resources: resourcesSchema({ cpu: '500m', memory: '512Mi' }),
  })
  .strict()
  .prefault({})
  .describe('The proxy: the read-write registry API that pushes go through.');
