import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceUnreachableError } from '@kraken/service-kit';
import { createTestTokenIssuer, type TestTokenIssuer } from '../testing/test-credentials.js';
import { createTokenVerifier, parsePublicKey, type TokenCheck } from './token-verifier.js';

const NOW = Date.UTC(2030, 0, 1);
const now = Math.floor(NOW / 1000);
let issuer: TestTokenIssuer;

beforeAll(async () => {
  issuer = await createTestTokenIssuer({ issuer: 'https://auth.test', service: 'registry.test' });
});

function verifier(extra: { groupsClaim?: string; jwksUrl?: string } = {}) {
  const publicKey = parsePublicKey(issuer.publicKeyPem, 'issuer.pem');
  return createTokenVerifier({
    issuer: issuer.issuer,
    service: issuer.service,
    keys: extra.jwksUrl === undefined ? { publicKey: () => publicKey } : { jwksUrl: extra.jwksUrl },
    groupsClaim: extra.groupsClaim,
    leewaySeconds: 30,
    now: () => NOW,
  });
}

const push = [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }];

function reason(check: TokenCheck): string {
  if (check.ok) throw new Error('token accepted');
  return check.reason;
}

describe('token verifier', () => {
  it('accepts a token of the issuer for this service, with its subject, groups and access', async () => {
    const token = await issuer.sign({ subject: 'alice', access: push, groups: ['ci'], now });
    const check = await verifier({ groupsClaim: 'groups' }).verify(token);
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.token.subject).toBe('alice');
    expect(check.token.groups).toEqual(['ci']);
    expect(check.token.access).toEqual([
      { type: 'repository', name: 'team/app', actions: new Set(['pull', 'push']) },
    ]);
  });

  it('refuses expired and not-yet-valid tokens, beyond the leeway', async () => {
    const v = verifier();
    expect(
      reason(await v.verify(await issuer.sign({ subject: 'a', now: now - 7200, expiresAt: now - 60 }))),
    ).toBe('the token has expired');
    expect(
      (await v.verify(await issuer.sign({ subject: 'a', now: now - 7200, expiresAt: now - 10 }))).ok,
    ).toBe(true);
    expect(reason(await v.verify(await issuer.sign({ subject: 'a', now, notBefore: now + 120 })))).toMatch(
      /nbf/,
    );
  });

  it('refuses tokens of another issuer, for another service, or signed by another key', async () => {
    const v = verifier();
    expect(
      reason(await v.verify(await issuer.sign({ subject: 'a', now, issuer: 'https://evil.test' }))),
    ).toMatch(/iss/);
    expect(
      reason(await v.verify(await issuer.sign({ subject: 'a', now, audience: 'other-registry' }))),
    ).toMatch(/aud/);
    const other = await createTestTokenIssuer({ issuer: issuer.issuer, service: issuer.service });
    expect(reason(await v.verify(await other.sign({ subject: 'a', now })))).toBe(
      'the token signature is not valid',
    );
    expect(reason(await v.verify('not.a.token'))).toBe('the token is malformed');
  });

  it('refuses an HMAC token and a token without expiry', async () => {
    const v = verifier();
    const hmac = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(issuer.issuer)
      .setAudience(issuer.service)
      .setSubject('a')
      .setExpirationTime(now + 60)
      .sign(new TextEncoder().encode(issuer.publicKeyPem));
    expect((await v.verify(hmac)).ok).toBe(false);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const noExp = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(issuer.issuer)
      .setAudience(issuer.service)
      .setSubject('a')
      .sign(privateKey);
    expect((await v.verify(noExp)).ok).toBe(false);
  });

  it('refuses malformed access and groups claims', async () => {
    const access = await issuer.sign({
      subject: 'a',
      now,
      claims: { access: [{ type: 'repository', name: 'x' }] },
    });
    expect(reason(await verifier().verify(access))).toBe('the access claim is malformed');
    const groups = await issuer.sign({ subject: 'a', now, claims: { groups: 'ci' } });
    expect(reason(await verifier({ groupsClaim: 'groups' }).verify(groups))).toBe(
      'the groups claim is not a list of strings',
    );
    // Without a groups claim configured, the claim means nothing.
    expect((await verifier().verify(groups)).ok).toBe(true);
  });
});

describe('token verifier with a JWKS', () => {
  let server: Server;
  let url: string;
  let requests = 0;
  let failing = false;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests++;
      if (failing) {
        res.writeHead(500).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(issuer.jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('verifies with the key the JWKS names, fetched once', async () => {
    const v = verifier({ jwksUrl: url });
    expect((await v.verify(await issuer.sign({ subject: 'a', now }))).ok).toBe(true);
    expect((await v.verify(await issuer.sign({ subject: 'b', now }))).ok).toBe(true);
    expect(requests).toBe(1);
  });

  it('answers "unavailable" rather than "invalid" when the JWKS cannot be fetched', async () => {
    failing = true;
    const v = verifier({ jwksUrl: url });
    await expect(v.verify(await issuer.sign({ subject: 'a', now }))).rejects.toBeInstanceOf(
      ServiceUnreachableError,
    );
    failing = false;
  });
});

describe('issuer public key file', () => {
  it('refuses a private key and what is not a key', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => parsePublicKey(pem, '/keys/issuer.pem')).toThrow(
      "/keys/issuer.pem holds a private key; the registry needs only the issuer's public key",
    );
    expect(() => parsePublicKey('hello', '/keys/issuer.pem')).toThrow(
      '/keys/issuer.pem is not a PEM public key or certificate',
    );
  });
});
