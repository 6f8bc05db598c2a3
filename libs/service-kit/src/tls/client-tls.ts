/**
 * The client side of TLS, for every HTTP client of the product: each new connection
 * opens with the client files read last (CA, certificate and key), so a reload applies
 * to new connections without rebuilding any pool. Clients take it as their `tls`
 * option; plain http:// URLs ignore it.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import { watchPemFiles, type PemFile, type PemFileDeps } from './pem-files.js';
import type { ClientTlsConfig } from './tls-config.js';

/** What a client needs to open a TLS connection: the context of the files read last. */
export interface ClientTlsContext {
  /** Undefined when TLS is not configured: the system CAs, no client certificate. */
  secureContext(): SecureContext | undefined;
  /** The name the server's certificate must carry, when not the URL's host. */
  readonly serverName?: string | undefined;
}

export interface ClientTls extends ClientTlsContext {
  /** Checks the files now; true when they changed and were reloaded. */
  check(): Promise<boolean>;
  close(): void;
}

/** Reads the files now (a ConfigError names a bad one) and follows them until close. */
export function createClientTls(config: ClientTlsConfig | undefined, deps: PemFileDeps = {}): ClientTls {
  if (config === undefined) {
    return { secureContext: () => undefined, check: async () => false, close() {} };
  }
  const files: PemFile[] = [];
  if (config.caFile !== undefined) files.push({ key: 'caFile', path: config.caFile, kind: 'certificate' });
  if (config.certFile !== undefined)
    files.push({ key: 'certFile', path: config.certFile, kind: 'certificate' });
  if (config.keyFile !== undefined) files.push({ key: 'keyFile', path: config.keyFile, kind: 'private key' });
  const watched = watchPemFiles<SecureContext>(
    {
      label: 'tls.client',
      files,
      reloadIntervalMs: config.reloadIntervalMs,
      // Without a CA file the context trusts the system CAs.
      build: (pem) =>
        createSecureContext({
          ...(pem.caFile === undefined ? {} : { ca: pem.caFile }),
          ...(pem.certFile === undefined ? {} : { cert: pem.certFile }),
          ...(pem.keyFile === undefined ? {} : { key: pem.keyFile }),
        }),
    },
    deps,
  );
  return {
    serverName: config.serverName,
    secureContext: () => watched.current(),
    check: () => watched.check(),
    close: () => watched.close(),
  };
}
