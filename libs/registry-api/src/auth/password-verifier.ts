/**
 * Checks a user and password against htpasswd bcrypt hashes. bcrypt is slow on
 * purpose (tens of milliseconds), and a client sends its credentials with every request
 * of a push, so a success is remembered for a while: under an HMAC of user, password and
 * hash with a key made at start, which holds no password and forgets itself when the
 * hash changes. Unknown users cost a bcrypt check too, so timing does not tell which
 * user names exist.
 */
import { createHmac, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { HtpasswdUsers } from './htpasswd-file.js';

export interface PasswordVerifier {
  verify(username: string, password: string): Promise<boolean>;
}

export interface PasswordVerifierOptions {
  /** The users as currently loaded (the htpasswd file may be reloaded). */
  readonly users: () => HtpasswdUsers;
  readonly cacheMs: number;
  readonly cacheEntries: number;
  /** Milliseconds; only differences matter. */
  readonly now: () => number;
}

/** bcrypt truncates passwords past 72 bytes; longer ones are refused rather than cut. */
const MAX_PASSWORD_BYTES = 72;

export function createPasswordVerifier(options: PasswordVerifierOptions): PasswordVerifier {
  const key = randomBytes(32);
  // Insertion order is expiry order: every entry lives cacheMs from when it was added.
  const verified = new Map<string, number>();
  let decoy: Promise<string> | undefined;

  const cacheKey = (username: string, password: string, hash: string) =>
    createHmac('sha256', key).update(`${username}\0${password}\0${hash}`).digest('base64');

  const remember = (entry: string) => {
    if (options.cacheMs <= 0 || options.cacheEntries <= 0) return;
    verified.delete(entry);
    verified.set(entry, options.now() + options.cacheMs);
    while (verified.size > options.cacheEntries) verified.delete(verified.keys().next().value!);
  };

  return {
    async verify(username, password) {
      const hash = options.users().get(username);
      if (hash === undefined || Buffer.byteLength(password) > MAX_PASSWORD_BYTES) {
        // Same cost as a real check, against a hash of random bytes that nothing matches.
        decoy ??= bcrypt.hash(randomBytes(16).toString('hex'), 10);
        await bcrypt.compare(password, await decoy);
        return false;
      }
      const entry = cacheKey(username, password, hash);
      const until = verified.get(entry);
      if (until !== undefined) {
        if (until > options.now()) return true;
        verified.delete(entry);
      }
      if (!(await bcrypt.compare(password, hash))) return false;
      remember(entry);
      return true;
    },
  };
}
