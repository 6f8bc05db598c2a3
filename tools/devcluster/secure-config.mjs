// What `--secure` changes in each component's config: TLS on its server (mutual, so
// origins and build-indexes know who writes), client certificates and the cluster CA on
// its clients, mutual TLS on P2P, push authentication on the proxy. The agents' registries
// stay plain HTTP on loopback, where the node's containerd and skopeo reach them.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { Agent } from 'undici';
import { readFileSync } from 'node:fs';
import { createSecureMaterial } from './secure.mjs';

const KINDS = ['origin', 'tracker', 'build-index', 'proxy', 'agent', 'devcluster'];

export async function secureClusterConfig(dir) {
  const material = await createSecureMaterial(dir, KINDS);
  const { caFile, certificates, user } = material;
  const htpasswdFile = join(material.dir, 'htpasswd');
  // htpasswd's bcrypt flavour; bcryptjs writes $2b$, which every bcrypt reader accepts.
  await writeFile(htpasswdFile, `${user.username}:${bcrypt.hashSync(user.password, 10)}\n`, { mode: 0o600 });
  const client = (kind) => ({ caFile, ...certificates[kind] });
  const server = (kind, clientAuth) => ({ ...certificates[kind], clientCaFile: caFile, clientAuth });

  /** The devcluster's own client (readiness probes): the cluster CA and a certificate that may read. */
  const dispatcher = new Agent({
    connect: {
      ca: readFileSync(caFile),
      cert: readFileSync(certificates.devcluster.certFile),
      key: readFileSync(certificates.devcluster.keyFile),
    },
  });

  return {
    user,
    dispatcher,
    endpoints: { auth: { ...user }, ca: caFile },
    certDir: material.clientCertDir,
    apply(spec) {
      const kind = spec.app;
      const config = spec.config;
      if (kind === 'agent') config.tls = { client: client('agent') };
      // Pushers (skopeo, docker) bring no client certificate: the proxy checks passwords.
      else if (kind === 'proxy') config.tls = { server: server('proxy', 'none'), client: client('proxy') };
      else config.tls = { server: server(kind, 'require'), client: client(kind) };
      if (kind === 'origin' || kind === 'agent')
        config.p2p = { ...config.p2p, tls: { ...certificates[kind], caFile } };
      if (kind === 'proxy')
        config.auth = {
          htpasswd: { file: htpasswdFile },
          rules: [{ repositories: ['**'], users: [user.username], actions: ['pull', 'push', 'delete'] }],
        };
    },
    close: () => dispatcher.close(),
  };
}
