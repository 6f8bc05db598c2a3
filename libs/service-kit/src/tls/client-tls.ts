/**
 * The client side of TLS, for every HTTP client of the product: an undici connector that
 * opens each new connection with the client files read last (CA, certificate and key),
 * so a reload applies to new connections without rebuilding any pool. Clients take it
 * as their `connect` option; plain http:// URLs go through it unchanged.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import { buildConnector } from 'undici';
import { watchPemFiles, type PemFile, type PemFileDeps } from './pem-files.js';
import type { ClientTlsConfig } from './tls-config.js';

/** undici's `connect` option as a function: what every client's `connect` takes. */
export type TlsConnector = buildConnector.connector;

export interface ClientTls {
  /** The `connect` option of every undici client; undefined (undici's own) when TLS is not configured. */
  readonly connect: TlsConnector | undefined;
  /** The secure context of the files read last, for clients that are not undici's. */
  secureContext(): SecureContext | undefined;
  /** Checks the files now; true when they changed and were reloaded. */
  check(): Promise<boolean>;
  close(): void;
}

interface Built {
  readonly secureContext: SecureContext;
  readonly connector: TlsConnector;
}

/** Reads the files now (a ConfigError names a bad one) and follows them until close. */
export function createClientTls(config: ClientTlsConfig | undefined, deps: PemFileDeps = {}): ClientTls {
  if (config === undefined) {
    return { connect: undefined, secureContext: () => undefined, check: async () => false, close() {} };
  }
  const files: PemFile[] = [];
  if (config.caFile !== undefined) files.push({ key: 'caFile', path: config.caFile, kind: 'certificate' });
  if (config.certFile !== undefined)
    files.push({ key: 'certFile', path: config.certFile, kind: 'certificate' });
  if (config.keyFile !== undefined) files.push({ key: 'keyFile', path: config.keyFile, kind: 'private key' });
  const watched = watchPemFiles<Built>(
    {
      label: 'tls.client',
      files,
      reloadIntervalMs: config.reloadIntervalMs,
      build: (pem) => {
        // Without a CA file the context trusts the system CAs.
        const secureContext = createSecureContext({
          ...(pem.caFile === undefined ? {} : { ca: pem.caFile }),
          ...(pem.certFile === undefined ? {} : { cert: pem.certFile }),
          ...(pem.keyFile === undefined ? {} : { key: pem.keyFile }),
        });
        // A new connector also starts a new session cache: no session of the old files is resumed.
        const connector = buildConnector({
          secureContext,
          ...(config.serverName === undefined ? {} : { servername: config.serverName }),
        } as buildConnector.BuildOptions);
        return { secureContext, connector };
      },
    },
    deps,
  );
  return {
    connect: (options, callback) => watched.current().connector(options, callback),
    secureContext: () => watched.current().secureContext,
    check: () => watched.check(),
    close: () => watched.close(),
  };
}
