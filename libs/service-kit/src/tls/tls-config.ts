/**
 * The TLS config every component shares (`tls:` in each app's file): the server side of
 * its HTTP listener, the client side of every request it makes to another component,
 * and, for the components that take writes, the identities allowed to write. Both sides
 * are off when absent. Files are PEM, read at start and again when they change on disk
 * (pem-files.ts), so a rotated Secret applies without a restart.
 */
import { z } from 'zod';

const reloadIntervalMs = z
  .number()
  .int()
  .min(1_000)
  .default(30_000)
  .describe(
    'Milliseconds between checks of the files for changes, besides watching their directories; new connections use the new files.',
  );

export const serverTlsSchema = z
  .object({
    certFile: z.string().min(1).describe('PEM certificate chain the server presents, leaf first.'),
    keyFile: z.string().min(1).describe('PEM private key of the certificate, unencrypted.'),
    clientCaFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        'PEM CA bundle that client certificates must chain to; needed unless `clientAuth` is `none`.',
      ),
    clientAuth: z
      .enum(['none', 'optional', 'require'])
      .default('none')
      .describe(
        'Client certificates: `none` asks for none; `optional` verifies one when offered, and clients without one may read but not write; `require` refuses the handshake without a valid one (kubelet HTTPS probes present none).',
      ),
    reloadIntervalMs,
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.clientAuth !== 'none' && config.clientCaFile === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['clientCaFile'],
        message: `clientAuth "${config.clientAuth}" needs clientCaFile, the CA that client certificates chain to`,
      });
    }
  })
  .describe('HTTPS on the HTTP listener; plain HTTP when absent.');

export const clientTlsSchema = z
  .object({
    caFile: z
      .string()
      .min(1)
      .optional()
      .describe("PEM CA bundle that servers' certificates must chain to; the system CAs when absent."),
    certFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        'PEM client certificate presented to servers that ask for one; its CN or a DNS or URI SAN is the identity servers check writes against.',
      ),
    keyFile: z.string().min(1).optional().describe('PEM private key of `certFile`, unencrypted.'),
    serverName: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Name that servers' certificates are checked against, and sent as SNI, instead of the host of each URL.",
      ),
    reloadIntervalMs,
  })
  .strict()
  .superRefine((config, ctx) => {
    if ((config.certFile === undefined) !== (config.keyFile === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [config.certFile === undefined ? 'certFile' : 'keyFile'],
        message: 'certFile and keyFile go together',
      });
    }
  })
  .describe(
    'TLS of requests to other components (to https:// members and URLs); absent, the system CAs and no client certificate.',
  );

/** The fields of `tls:`, for apps that add their own (as `writers`). */
export const tlsShape = {
  server: serverTlsSchema.optional(),
  client: clientTlsSchema.optional(),
};

export const tlsSchema = z
  .object(tlsShape)
  .strict()
  .prefault({})
  .describe('TLS of the HTTP server and of requests to other components; both off by default.');

/** `tls.writers` of a component that takes writes, with the identities that write to it by default. */
export function tlsWritersSchema(defaults: readonly string[]) {
  return z
    .array(z.string().min(1))
    .default([...defaults])
    .describe(
      'Identities allowed to write (PUT, POST, PATCH, DELETE) when `server.clientAuth` is not `none`: a client certificate whose CN, DNS SAN or URI SAN equals one of them. Other clients get 403 KRAKEN_IDENTITY_FORBIDDEN on writes; reads stay open to every client the handshake admits.',
    );
}

export type ServerTlsConfig = z.output<typeof serverTlsSchema>;
export type ClientTlsConfig = z.output<typeof clientTlsSchema>;
export type TlsConfig = z.output<typeof tlsSchema>;
