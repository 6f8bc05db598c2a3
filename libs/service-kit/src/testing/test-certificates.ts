/**
 * A throwaway PKI for TLS tests, made with the `openssl` command in a directory: a CA,
 * and certificates it signs for servers and clients (EC P-256, valid for two days,
 * good for both server and client auth). Certificates are real files, so tests can
 * replace them on disk the way a Secret rotation does.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  /** SHA-256 fingerprint, as `getPeerCertificate().fingerprint256` gives it. */
  readonly fingerprint256: string;
}

export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  /**
   * A certificate for `commonName` signed by the CA, written to `<dir>/<file>.crt|.key`
   * (file defaults to the common name). Loopback names are in its SANs unless `sans`
   * says otherwise.
   */
  issue(commonName: string, options?: { sans?: readonly string[]; file?: string }): TestCertificate;
}

const LOOPBACK_SANS = ['DNS:localhost', 'IP:127.0.0.1'];

/** Creates a CA in `dir` (a subdirectory `name` when given, so one test can hold two). */
export function createTestPki(dir: string, name = 'ca'): TestPki {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  const caFile = join(root, 'ca.crt');
  const caKey = join(root, 'ca.key');
  const caConfig = join(root, 'ca.cnf');
  writeFileSync(
    caConfig,
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      'x509_extensions = ext',
      '[dn]',
      `CN = kraken test ${name}`,
      '[ext]',
      'basicConstraints = critical,CA:TRUE',
      'keyUsage = critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  openssl([
    'req',
    '-x509',
    '-new',
    ...EC_KEY,
    '-nodes',
    '-days',
    '2',
    '-config',
    caConfig,
    '-keyout',
    caKey,
    '-out',
    caFile,
  ]);

  return {
    dir: root,
    caFile,
    issue(commonName, options = {}) {
      const file = options.file ?? commonName;
      const certFile = join(root, `${file}.crt`);
      const keyFile = join(root, `${file}.key`);
      const csr = join(root, `${file}.csr`);
      const extensions = join(root, `${file}.ext`);
      const sans = options.sans ?? LOOPBACK_SANS;
      writeFileSync(
        extensions,
        [
          'basicConstraints = critical,CA:FALSE',
          'keyUsage = critical,digitalSignature',
          'extendedKeyUsage = serverAuth,clientAuth',
          ...(sans.length === 0 ? [] : [`subjectAltName = ${sans.join(',')}`]),
          '',
        ].join('\n'),
      );
      const serial = randomBytes(8).toString('hex');
      openssl([
        'req',
        '-new',
        ...EC_KEY,
        '-nodes',
        '-subj',
        `/CN=${commonName}`,
        '-keyout',
        keyFile,
        '-out',
        csr,
      ]);
      openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        caFile,
        '-CAkey',
        caKey,
        '-set_serial',
        `0x${serial}`,
        '-days',
        '2',
        '-extfile',
        extensions,
        '-out',
        certFile,
      ]);
      const { fingerprint256 } = new X509Certificate(readFileSync(certFile));
      return { certFile, keyFile, fingerprint256 };
    },
  };
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
