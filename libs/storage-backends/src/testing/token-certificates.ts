/**
 * Certificates for registry token auth in tests: a throwaway CA (the registry's
 * `rootcertbundle`) and a leaf signing key whose certificate it issued (the token's
 * `x5c`), made with the openssl CLI in a directory the caller removes.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TokenCertificates {
  /** PEM file of the CA, for the registry's `auth.token.rootcertbundle`. */
  readonly caBundlePath: string;
  /** PEM private key (P-256) that signs tokens. */
  readonly signingKeyPem: string;
  /** Base64 DER of the signing certificate, the token header's `x5c[0]`. */
  readonly signingCertDer: string;
}

export async function createTokenCertificates(dir: string): Promise<TokenCertificates> {
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  const ecKey = (out: string) =>
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path(out));
  await Promise.all([ecKey('ca.key'), ecKey('signer.key')]);
  await openssl(
    'req',
    '-x509',
    '-new',
    '-key',
    path('ca.key'),
    '-subj',
    '/CN=kraken-test-ca',
    '-days',
    '2',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    path('ca.pem'),
  );
  await openssl(
    'req',
    '-new',
    '-key',
    path('signer.key'),
    '-subj',
    '/CN=kraken-test-token-signer',
    '-out',
    path('signer.csr'),
  );
  await writeFile(path('signer.ext'), 'keyUsage=critical,digitalSignature\n');
  await openssl(
    'x509',
    '-req',
    '-in',
    path('signer.csr'),
    '-CA',
    path('ca.pem'),
    '-CAkey',
    path('ca.key'),
    '-set_serial',
    '2',
    '-days',
    '2',
    '-extfile',
    path('signer.ext'),
    '-out',
    path('signer.pem'),
  );
  const certPem = await readFile(path('signer.pem'), 'utf8');
  return {
    caBundlePath: path('ca.pem'),
    signingKeyPem: await readFile(path('signer.key'), 'utf8'),
    signingCertDer: certPem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''),
  };
}
