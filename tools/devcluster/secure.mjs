// The throwaway security material of `devcluster --secure`, made with openssl: a cluster
// CA, one certificate per component (its name as CN and DNS SAN, plus localhost and
// 127.0.0.1, usable as server and as client), the P2P cluster token and a push user with
// a random password. Everything lives under <dir>/secure/, private files mode 0600.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const DAYS = '30';

async function openssl(args, cwd) {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    throw new Error(`openssl ${args[0]} failed: ${err.stderr || err.message}`);
  }
}

/** A key and a certificate signed by the CA in `dir`, for `name`. */
async function issue(dir, name) {
  const ext = join(dir, `${name}.ext`);
  await writeFile(
    ext,
    [
      'basicConstraints = CA:FALSE',
      'keyUsage = digitalSignature, keyEncipherment',
      'extendedKeyUsage = serverAuth, clientAuth',
      `subjectAltName = DNS:${name}, DNS:localhost, IP:127.0.0.1`,
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
      `${name}.key`,
      '-out',
      `${name}.csr`,
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
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      DAYS,
      '-extfile',
      ext,
    ],
    dir,
  );
  await chmod(join(dir, `${name}.key`), 0o600);
  return { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
}

/**
 * Makes the CA, a certificate for each of `names`, the cluster token and the push user.
 * Returns the paths and the generated password (printed once by the devcluster).
 */
export async function createSecureMaterial(root, names) {
  const dir = join(root, 'secure');
  await mkdir(dir, { recursive: true, mode: 0o700 });
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
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      '/CN=kraken devcluster CA',
      '-days',
      DAYS,
    ],
    dir,
  );
  await chmod(join(dir, 'ca.key'), 0o600);
  const certificates = {};
  for (const name of names) certificates[name] = await issue(dir, name);
  const clusterTokenFile = join(dir, 'cluster-token');
  await writeFile(clusterTokenFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  const user = { username: 'kraken', password: randomBytes(18).toString('base64url') };
  // skopeo's --cert-dir takes every *.crt in it as a CA: the CA alone goes there.
  const clientCertDir = join(dir, 'client');
  await mkdir(clientCertDir, { recursive: true });
  await copyFile(join(dir, 'ca.crt'), join(clientCertDir, 'ca.crt'));
  return { dir, caFile: join(dir, 'ca.crt'), clientCertDir, certificates, clusterTokenFile, user };
}
