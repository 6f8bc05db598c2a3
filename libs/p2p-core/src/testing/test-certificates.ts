/**
 * Certificates for the P2P TLS tests, on service-kit's throwaway PKI (openssl in a
 * temporary directory): a cluster CA per name, and peer certificates it issues with the
 * peer's name as CN and DNS SAN. `replace` writes the new files beside the old ones and
 * renames them over, as a Secret rotation does.
 */
import { rename } from 'node:fs/promises';
import { createTestPki, type TestPki } from '@kraken/service-kit/testing';

export interface TestCa {
  readonly name: string;
  readonly caFile: string;
  readonly pki: TestPki;
}

export interface TestCertificate {
  readonly certFile: string;
  readonly keyFile: string;
}

/** A self-signed CA named `name`, under `<dir>/<name>-ca/`. */
export async function createTestCa(dir: string, name: string): Promise<TestCa> {
  const pki = createTestPki(dir, `${name}-ca`);
  return { name, caFile: pki.caFile, pki };
}

/** A certificate for CN `name` issued by `ca`; with `replace`, renamed over those files. */
export async function issueTestCertificate(
  ca: TestCa,
  name: string,
  options: { replace?: TestCertificate } = {},
): Promise<TestCertificate> {
  const issued = ca.pki.issue(name, {
    sans: [`DNS:${name}`, 'IP:127.0.0.1'],
    file: options.replace === undefined ? name : `${name}.next`,
  });
  if (options.replace === undefined) return { certFile: issued.certFile, keyFile: issued.keyFile };
  await rename(issued.keyFile, options.replace.keyFile);
  await rename(issued.certFile, options.replace.certFile);
  return options.replace;
}
