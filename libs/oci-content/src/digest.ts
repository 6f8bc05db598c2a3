/**
 * Digests as the OCI image spec defines them (`algorithm:encoded`), restricted to the
 * algorithms this project verifies: sha256 and sha512. Parsing happens once, at the
 * edge, so that everything past it can trust `Digest` values (including as path parts).
 */
import { InvalidDigestError } from './errors.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface Digest {
  readonly algorithm: DigestAlgorithm;
  /** Lowercase hex, 64 chars for sha256, 128 for sha512. */
  readonly hex: string;
  /** `algorithm:hex`. */
  readonly value: string;
}

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const HEX = /^[a-f0-9]+$/;
// The spec's general grammar; used to tell "unsupported algorithm" from "malformed".
const GENERAL = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export const SUPPORTED_DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['sha256', 'sha512'];

/** Parses and validates a digest string; throws InvalidDigestError with the reason. */
export function parseDigest(input: string): Digest {
  if (typeof input !== 'string' || input.length > 200)
    throw new InvalidDigestError('digest is missing or too long');
  const colon = input.indexOf(':');
  if (colon <= 0 || !GENERAL.test(input))
    throw new InvalidDigestError(`malformed digest "${truncate(input)}"`);
  const algorithm = input.slice(0, colon);
  const hex = input.slice(colon + 1);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw new InvalidDigestError(`unsupported digest algorithm "${truncate(algorithm)}"`);
  }
  if (hex.length !== HEX_LENGTH[algorithm] || !HEX.test(hex)) {
    throw new InvalidDigestError(`malformed ${algorithm} digest "${truncate(input)}"`);
  }
  return { algorithm, hex, value: input };
}

/** Like parseDigest, but returns undefined instead of throwing. */
export function tryParseDigest(input: string): Digest | undefined {
  try {
    return parseDigest(input);
  } catch {
    return undefined;
  }
}

export function isDigest(input: string): boolean {
  return tryParseDigest(input) !== undefined;
}

/** Builds a Digest from parts already known to be valid (e.g. a finished hash). */
export function digestFromHex(algorithm: DigestAlgorithm, hex: string): Digest {
  return parseDigest(`${algorithm}:${hex}`);
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
