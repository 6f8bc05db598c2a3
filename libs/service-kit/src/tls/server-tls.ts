/**
 * The server side of TLS: the options an HTTPS server starts with (the files read now
 * and the client-certificate policy), and every reload of the files applied to the
 * running server with `setSecureContext`, so new connections get the new certificate,
 * key and client CA while open ones go on with the old.
 */
import { createSecureContext, type SecureContextOptions, type TlsOptions } from 'node:tls';
import { watchPemFiles, type PemFile, type PemFileDeps } from './pem-files.js';
import type { ServerTlsConfig } from './tls-config.js';

export interface ServerTls {
  /** Options of the HTTPS server (fastify's `https`, `https.createServer`, `tls.createServer`). */
  readonly serverOptions: TlsOptions;
  /** Whether the server asks clients for certificates (`clientAuth` other than `none`). */
  readonly verifiesClients: boolean;
  /** The secure-context options of the files read last. */
  current(): SecureContextOptions;
  /** Applies every later reload to `server`; returns the means to stop. */
  attach(server: { setSecureContext(options: SecureContextOptions): void }): () => void;
  /** Checks the files now; true when they changed and were reloaded. */
  check(): Promise<boolean>;
  close(): void;
}

/** Reads the files now (a ConfigError names a bad one) and follows them until close. */
export function createServerTls(config: ServerTlsConfig, deps: PemFileDeps = {}): ServerTls {
  const files: PemFile[] = [
    { key: 'certFile', path: config.certFile, kind: 'certificate' },
    { key: 'keyFile', path: config.keyFile, kind: 'private key' },
    ...(config.clientCaFile === undefined
      ? []
      : [{ key: 'clientCaFile', path: config.clientCaFile, kind: 'certificate' } as const]),
  ];
  const watched = watchPemFiles<SecureContextOptions>(
    {
      label: 'tls.server',
      files,
      reloadIntervalMs: config.reloadIntervalMs,
      build: (pem) => {
        const options: SecureContextOptions = {
          cert: pem.certFile,
          key: pem.keyFile,
          ...(pem.clientCaFile === undefined ? {} : { ca: pem.clientCaFile }),
        };
        // Throws when the key does not match the certificate, or a file is not parsable.
        createSecureContext(options);
        return options;
      },
    },
    deps,
  );
  const verifiesClients = config.clientAuth !== 'none';
  return {
    serverOptions: {
      ...watched.current(),
      requestCert: verifiesClients,
      // `optional` admits clients without a valid certificate; they have no identity.
      rejectUnauthorized: config.clientAuth === 'require',
    },
    verifiesClients,
    current: () => watched.current(),
    attach: (server) => watched.onReload((options) => server.setSecureContext(options)),
    check: () => watched.check(),
    close: () => watched.close(),
  };
}
