/**
 * The test cluster's PKI, made with the openssl command line in a directory of its own: one
 * CA that signs every certificate, the apiserver's serving certificate (also served by the
 * controller-manager and the scheduler), the admin client certificate (`O=system:masters`),
 * the service-account signing key pair, and client certificates for any user and groups a
 * test wants to act as. EC P-256 throughout: each certificate takes a few milliseconds.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KeyPair {
  /** PEM certificate file. */
  readonly cert: string;
  /** PEM private key file (PKCS#8). */
  readonly key: string;
}

export interface ClientIdentity {
  /** The user name Kubernetes sees (the certificate's CN). */
  readonly user: string;
  /** Groups (the certificate's O entries). */
  readonly groups?: readonly string[];
}

export interface Pki {
  readonly dir: string;
  readonly ca: KeyPair;
  /** Serving certificate for 127.0.0.1 and localhost (and the in-cluster names of the apiserver). */
  readonly serving: KeyPair;
  /** `kubernetes-admin` in `system:masters`: every component and kubectl act as it. */
  readonly admin: KeyPair;
  /** The key that signs service-account tokens, and its public half that verifies them. */
  readonly serviceAccount: { readonly privateKey: string; readonly publicKey: string };
  /** A client certificate for `identity`, signed by the CA, named after `file` in the PKI directory. */
  issueClient(file: string, identity: ClientIdentity): Promise<KeyPair>;
}

/** Admin identity of the test cluster; `system:masters` bypasses RBAC. */
export const ADMIN: ClientIdentity = { user: 'kubernetes-admin', groups: ['system:masters'] };

/** Names the apiserver's serving certificate covers, in-cluster ones included for completeness. */
const SERVING_NAMES = [
  'IP:127.0.0.1',
  'DNS:localhost',
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local',
  // The first address of --service-cluster-ip-range (10.0.0.0/24), the `kubernetes` Service's.
  'IP:10.0.0.1',
];

/** Certificates of a test run; a day of validity is plenty and keeps a leaked one short-lived. */
const DAYS = '1';

export async function createPki(dir: string): Promise<Pki> {
  const ca: KeyPair = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  // `-config /dev/null`: no extensions but the ones named here (the default config makes a CA).
  await openssl([
    'req',
    ...newKey(ca),
    '-x509',
    '-subj',
    '/CN=kraken-e2e-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-addext',
    'subjectKeyIdentifier=hash',
  ]);
  const issue = async (pair: KeyPair, subject: string, extensions: readonly string[]): Promise<KeyPair> => {
    await openssl([
      'req',
      ...newKey(pair),
      '-x509',
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-subj',
      subject,
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      'keyUsage=critical,digitalSignature',
      '-addext',
      'authorityKeyIdentifier=keyid',
      ...extensions.flatMap((extension) => ['-addext', extension]),
    ]);
    return pair;
  };
  const issueClient = (file: string, identity: ClientIdentity) =>
    issue({ cert: join(dir, `${file}.crt`), key: join(dir, `${file}.key`) }, subjectOf(identity), [
      'extendedKeyUsage=clientAuth',
    ]);

  const serviceAccount = { privateKey: join(dir, 'sa.key'), publicKey: join(dir, 'sa.pub') };
  const [serving, admin] = await Promise.all([
    issue({ cert: join(dir, 'serving.crt'), key: join(dir, 'serving.key') }, '/CN=kube-apiserver', [
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${SERVING_NAMES.join(',')}`,
    ]),
    issueClient('admin', ADMIN),
    (async () => {
      await openssl([
        'genpkey',
        '-algorithm',
        'EC',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-out',
        serviceAccount.privateKey,
      ]);
      await openssl(['pkey', '-in', serviceAccount.privateKey, '-pubout', '-out', serviceAccount.publicKey]);
    })(),
  ]);
  return { dir, ca, serving, admin, serviceAccount, issueClient };
}

function newKey(pair: KeyPair): string[] {
  return [
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-noenc',
    '-keyout',
    pair.key,
    '-out',
    pair.cert,
    '-days',
    DAYS,
    '-config',
    '/dev/null',
  ];
}

/** `/CN=user/O=group...`, with the characters openssl's -subj syntax gives meaning escaped. */
function subjectOf(identity: ClientIdentity): string {
  const escape = (value: string) => value.replace(/[\\/+=]/g, (c) => `\\${c}`);
  return [`/CN=${escape(identity.user)}`, ...(identity.groups ?? []).map((g) => `/O=${escape(g)}`)].join('');
}

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr || e.message}`, { cause: err });
  }
}
