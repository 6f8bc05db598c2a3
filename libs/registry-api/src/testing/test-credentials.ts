/**
 * Credentials for tests of registry auth: a token issuer of the registry token flow (a
 * fresh key pair, its public key as PEM and as a JWKS, and `sign()` for tokens with the
 * `access` claim the registry checks; times are epoch seconds), and htpasswd lines.
 */
import bcrypt from 'bcryptjs';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK } from 'jose';

export interface TestTokenIssuer {
  readonly issuer: string;
  readonly service: string;
  readonly publicKeyPem: string;
  readonly jwks: { readonly keys: readonly JWK[] };
  sign(claims: TestTokenClaims): Promise<string>;
}

export interface TestTokenClaims {
  readonly subject: string;
  /** `[{ type: 'repository', name, actions }]`, as the token flow writes it. */
  readonly access?: ReadonlyArray<{ type: string; name: string; actions: string[] }>;
  readonly groups?: readonly string[];
  /** Default: an hour from `now`. */
  readonly expiresAt?: number;
  readonly notBefore?: number;
  /** Default: the current wall time. */
  readonly now?: number;
  /** Override the issuer or audience, to make a token another registry would accept. */
  readonly issuer?: string;
  readonly audience?: string;
  /** More claims, or claims of the wrong shape, as a faulty issuer would write them. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

export async function createTestTokenIssuer(
  options: { issuer?: string; service?: string } = {},
): Promise<TestTokenIssuer> {
  const issuer = options.issuer ?? 'https://auth.test';
  const service = options.service ?? 'registry.test';
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = 'test-key';
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return {
    issuer,
    service,
    publicKeyPem: await exportSPKI(publicKey),
    jwks: { keys: [jwk] },
    async sign(claims) {
      const now = claims.now ?? Math.floor(Date.now() / 1000);
      const jwt = new SignJWT({
        access: claims.access ?? [],
        ...(claims.groups === undefined ? {} : { groups: claims.groups }),
        ...claims.claims,
      })
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
        .setIssuer(claims.issuer ?? issuer)
        .setAudience(claims.audience ?? service)
        .setSubject(claims.subject)
        .setIssuedAt(now)
        .setExpirationTime(claims.expiresAt ?? now + 3600);
      if (claims.notBefore !== undefined) jwt.setNotBefore(claims.notBefore);
      return jwt.sign(privateKey);
    },
  };
}

/** One line of an htpasswd file (bcrypt, cheap cost), as `htpasswd -nbB` writes it. */
export function testHtpasswdLine(user: string, password: string): string {
  return `${user}:${bcrypt.hashSync(password, 4).replace(/^\$2b\$/, '$2y$')}`;
}
