/**
 * Certificates for TLS tests, made with the `openssl` CLI in a temporary directory: a CA,
 * and certificates it issues (EC P-256, usable as client and as server, valid two days).
 */
import { execFile } from 'node:child_process';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCa {
  readonly name: string;
  readonly caFile: string;
  readonly keyFile: string;
}

export interface TestCertificate {
  readonly certFile: string;
  readonly keyFile: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd });
}

/** A self-signed CA named `name`, written to `<dir>/<name>-ca.{crt,key}`. */
export async function createTestCa(dir: string, name: string): Promise<TestCa> {
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}-ca.key`,
      '-out',
      `${name}-ca.crt`,
      '-subj',
      `/CN=${name} CA`,
      '-days',
      '2',
    ],
    dir,
  );
  return { name, caFile: join(dir, `${name}-ca.crt`), keyFile: join(dir, `${name}-ca.key`) };
}

/**
 * A certificate for CN `name` issued by `ca`, written to `<dir>/<name>.{crt,key}`. With
 * `replace`, it is written beside and renamed over the files, as a rotation does.
 */
export async function issueTestCertificate(
  dir: string,
  ca: TestCa,
  name: string,
  options: { replace?: TestCertificate } = {},
): Promise<TestCertificate> {
  const base = options.replace === undefined ? name : `${name}.next`;
  await writeFile(
    join(dir, `${base}.ext`),
    [
      'basicConstraints = CA:FALSE',
      'keyUsage = digitalSignature, keyEncipherment',
      'extendedKeyUsage = serverAuth, clientAuth',
      `subjectAltName = DNS:${name}, IP:127.0.0.1`,
      '',
    ].join('\n'),
  );
  await openssl(
    [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.csr`,
      '-subj',
      `/CN=${name}`,
    ],
    dir,
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${base}.csr`,
      '-CA',
      ca.caFile,
      '-CAkey',
      ca.keyFile,
      '-CAcreateserial',
      '-out',
      `${base}.crt`,
      '-days',
      '2',
      '-extfile',
      `${base}.ext`,
    ],
    dir,
  );
  const issued = { certFile: join(dir, `${base}.crt`), keyFile: join(dir, `${base}.key`) };
  if (options.replace === undefined) return issued;
  await rename(issued.keyFile, options.replace.keyFile);
  await rename(issued.certFile, options.replace.certFile);
  return options.replace;
}
