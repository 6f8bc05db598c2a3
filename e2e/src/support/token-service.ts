/**
 * A token service of the registry token flow, as small as a test needs: an ES256 key pair
 * (the registry is given the public key), `sign()` for hand-made tokens, and a realm
 * endpoint that real clients (skopeo) ask for a token with Basic credentials and the
 * scope from the registry's challenge. It grants what a policy function allows.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

export interface TokenAccess {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenService {
  /** The realm URL of the challenge (`<url>/token`). */
  readonly realm: string;
  readonly issuer: string;
  readonly publicKeyPem: string;
  sign(claims: { subject: string; access: TokenAccess[]; expiresInSeconds?: number }): Promise<string>;
  close(): Promise<void>;
}

export interface TokenServiceOptions {
  readonly issuer: string;
  /** The registry's `service`: the audience of every token. */
  readonly service: string;
  /** user → password of the realm's Basic auth. */
  readonly users: Readonly<Record<string, string>>;
  /** The actions `user` gets on a repository it asked for; [] refuses them. */
  readonly grant: (user: string, repository: string, actions: string[]) => string[];
}

export async function startTokenService(options: TokenServiceOptions): Promise<TokenService> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const sign = (claims: { subject: string; access: TokenAccess[]; expiresInSeconds?: number }) =>
    signToken(privateKey, options, claims);

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://token.local');
    const user = basicUser(req.headers.authorization, options.users);
    if (
      url.pathname !== '/token' ||
      user === undefined ||
      url.searchParams.get('service') !== options.service
    ) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"unauthorized"}');
      return;
    }
    const access = url.searchParams.getAll('scope').flatMap((scope) => scope.split(' ').map(parseScope));
    const granted = access
      .filter((entry) => entry.type === 'repository')
      .map((entry) => ({ ...entry, actions: options.grant(user, entry.name, entry.actions) }))
      .filter((entry) => entry.actions.length > 0);
    void sign({ subject: user, access: granted }).then((token) => {
      const body = { token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    issuer: options.issuer,
    publicKeyPem: await exportSPKI(publicKey),
    sign,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function signToken(
  key: CryptoKey,
  options: TokenServiceOptions,
  claims: { subject: string; access: TokenAccess[]; expiresInSeconds?: number },
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const expires = now + (claims.expiresInSeconds ?? 300);
  return new SignJWT({ access: claims.access })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
    .setIssuer(options.issuer)
    .setAudience(options.service)
    .setSubject(claims.subject)
    .setIssuedAt(Math.min(now, expires - 60))
    .setExpirationTime(expires)
    .sign(key);
}

/** `repository:team/app:pull,push` → its parts (a name may not contain ':' here). */
function parseScope(scope: string): TokenAccess {
  const [type = '', name = '', actions = ''] = scope.split(':');
  return { type, name, actions: actions.split(',').filter((a) => a !== '') };
}

function basicUser(header: string | undefined, users: Readonly<Record<string, string>>): string | undefined {
  if (header === undefined || !header.startsWith('Basic ')) return undefined;
  const [user = '', password] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
  return users[user] !== undefined && users[user] === password ? user : undefined;
}
