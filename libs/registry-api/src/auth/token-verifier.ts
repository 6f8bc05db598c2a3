/**
 * Bearer tokens of the registry token flow (as the distribution registry defines it):
 * a JWT signed by the configured issuer, for this service (`aud`), unexpired, whose
 * `access` claim lists what it allows: `[{ type: 'repository', name, actions }]`.
 * Signatures are checked with jose, against the issuer's public key or its JWKS.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { ServiceUnreachableError } from '@kraken/service-kit';
import { AuthConfigError } from '../errors.js';

/** One entry of the `access` claim; `*` among the actions stands for all of them. */
export interface TokenAccess {
  readonly type: string;
  readonly name: string;
  readonly actions: ReadonlySet<string>;
}

export interface VerifiedToken {
  readonly subject: string;
  readonly groups: readonly string[];
  readonly access: readonly TokenAccess[];
}

/** A refused token carries why, for the 401 message and the logs; never the token itself. */
export type TokenCheck =
  { readonly ok: true; readonly token: VerifiedToken } | { readonly ok: false; readonly reason: string };

export interface TokenVerifier {
  /** Throws only ServiceUnreachableError, when the JWKS cannot be fetched. */
  verify(token: string): Promise<TokenCheck>;
}

export interface TokenVerifierOptions {
  readonly issuer: string;
  /** The audience every token must name. */
  readonly service: string;
  /** The issuer's public key as currently loaded, or the URL of its JWKS. */
  readonly keys: { readonly publicKey: () => KeyObject } | { readonly jwksUrl: string };
  readonly groupsClaim?: string | undefined;
  readonly leewaySeconds: number;
  /** Wall time, epoch milliseconds. */
  readonly now: () => number;
}

/** Asymmetric algorithms only: with a public key, an HMAC "signature" would be forgeable. */
const ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

const accessClaimSchema = z.array(
  z.object({ type: z.string(), name: z.string(), actions: z.array(z.string()) }),
);
const groupsClaimSchema = z.array(z.string());

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { keys } = options;
  const getKey: JWTVerifyGetKey = 'jwksUrl' in keys ? remoteKeys(keys.jwksUrl) : async () => keys.publicKey();

  return {
    async verify(jwt) {
      let payload;
      try {
        ({ payload } = await jwtVerify(jwt, getKey, {
          issuer: options.issuer,
          audience: options.service,
          algorithms: ALGORITHMS,
          clockTolerance: options.leewaySeconds,
          currentDate: new Date(options.now()),
          requiredClaims: ['exp', 'sub'],
        }));
      } catch (err) {
        if (err instanceof errors.JOSEError) return refused(reasonOf(err));
        throw err;
      }
      const access = accessClaimSchema.safeParse(payload['access'] ?? []);
      if (!access.success) return refused('the access claim is malformed');
      let groups: string[] = [];
      if (options.groupsClaim !== undefined && payload[options.groupsClaim] !== undefined) {
        const parsed = groupsClaimSchema.safeParse(payload[options.groupsClaim]);
        if (!parsed.success) return refused(`the ${options.groupsClaim} claim is not a list of strings`);
        groups = parsed.data;
      }
      if (typeof payload.sub !== 'string' || payload.sub === '') return refused('the token has no subject');
      return {
        ok: true,
        token: {
          subject: payload.sub,
          groups,
          access: access.data.map((entry) => ({ ...entry, actions: new Set(entry.actions) })),
        },
      };
    },
  };
}

function refused(reason: string): TokenCheck {
  return { ok: false, reason };
}

/** The issuer's public key from a PEM file's text (SPKI or certificate). */
export function parsePublicKey(pem: string, file: string): KeyObject {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new AuthConfigError(`${file} holds a private key; the registry needs only the issuer's public key`);
  }
  try {
    return createPublicKey(pem);
  } catch {
    throw new AuthConfigError(`${file} is not a PEM public key or certificate`);
  }
}

/**
 * The JWKS resolver. A key the set does not have makes the token invalid (401); a set
 * that cannot be fetched is the registry's problem, not the client's (503).
 */
function remoteKeys(url: string): JWTVerifyGetKey {
  const jwks = createRemoteJWKSet(new URL(url));
  return async (header, token) => {
    try {
      return await jwks(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
        throw err;
      if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) throw err;
      throw new ServiceUnreachableError(url, err);
    }
  };
}

function reasonOf(err: InstanceType<typeof errors.JOSEError>): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed)
    return `the token's ${err.claim} claim is not valid here`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is not valid';
  if (err instanceof errors.JWKSNoMatchingKey) return 'the token is signed with an unknown key';
  if (err instanceof errors.JOSEAlgNotAllowed)
    return 'the token is signed with an algorithm not accepted here';
  return 'the token is malformed';
}
