/**
 * A token service for a distribution registry in `auth: token` mode, as docker's
 * auth.docker.io behaves: GET /token?service=...&scope=... with basic credentials
 * answers {token, access_token, expires_in, issued_at}. Tokens are ES256 JWTs whose
 * `x5c` header carries the signing certificate, which the registry checks against
 * its rootcertbundle. Anonymous or wrong credentials get 401.
 */
import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TokenCertificates } from './token-certificates.js';

export interface TokenServerOptions {
  readonly certificates: TokenCertificates;
  readonly issuer: string;
  readonly service: string;
  readonly username: string;
  readonly password: string;
  /** Lifetime of a token, in seconds (default 300). */
  readonly expiresIn?: number;
}

export interface TokenServer {
  /** The realm: `http://127.0.0.1:<port>/token`. */
  readonly realm: string;
  /** Scopes of the token requests served so far ('' for none), in order. */
  readonly issued: string[];
  /** The next `n` tokens grant nothing, so the registry refuses them. */
  grantNothing(n: number): void;
  close(): Promise<void>;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const key: KeyObject = createPrivateKey(options.certificates.signingKeyPem);
  const expiresIn = options.expiresIn ?? 300;
  const expected = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  const issued: string[] = [];
  let emptyGrants = 0;

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/token' || req.method !== 'GET') {
      res.writeHead(404).end();
      return;
    }
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    const scopes = url.searchParams.getAll('scope');
    issued.push(scopes.join(' '));
    const access =
      emptyGrants > 0
        ? []
        : scopes.flatMap((scope) => {
            // repository:<name>:<actions>; the name may itself contain ':' only with a port.
            const [type, ...rest] = scope.split(':');
            const actions = rest.pop()?.split(',') ?? [];
            return type === undefined ? [] : [{ type, name: rest.join(':'), actions }];
          });
    if (emptyGrants > 0) emptyGrants--;
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c: [options.certificates.signingCertDer] };
    const claims = {
      iss: options.issuer,
      sub: options.username,
      aud: url.searchParams.get('service') ?? options.service,
      exp: now + expiresIn,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    const token = `${input}.${b64url(signature)}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        token,
        access_token: token,
        expires_in: expiresIn,
        issued_at: new Date().toISOString(),
      }),
    );
  });

  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    issued,
    grantNothing(n) {
      emptyGrants = n;
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
