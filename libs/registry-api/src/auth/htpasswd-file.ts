/**
 * The Apache files of Basic authentication: htpasswd (`user:hash` per line) and the
 * groups file (`group: user1 user2` per line). Only bcrypt hashes are accepted; any
 * other kind (MD5 `$apr1$`, SHA-1 `{SHA}`, crypt, plain text) is too weak to keep, so
 * the whole file is refused at load. Errors name the file and line and never quote
 * the line: it may hold a hash, or a password typed where a hash belongs.
 */
import { AuthConfigError } from '../errors.js';

/** User name → bcrypt hash. */
export type HtpasswdUsers = ReadonlyMap<string, string>;
/** User name → the groups they are in. */
export type UserGroups = ReadonlyMap<string, ReadonlySet<string>>;

const BCRYPT = /^\$2[by]\$\d\d\$[./A-Za-z0-9]{53}$/;
const USER = /^[^\s:]+$/;

export function parseHtpasswd(text: string, file: string): HtpasswdUsers {
  const users = new Map<string, string>();
  for (const { line, number } of contentLines(text)) {
    const colon = line.indexOf(':');
    const user = line.slice(0, colon);
    if (colon <= 0 || !USER.test(user)) {
      throw new AuthConfigError(`${file}:${number}: not a "user:hash" line`);
    }
    const hash = line.slice(colon + 1).trim();
    if (!BCRYPT.test(hash)) {
      throw new AuthConfigError(
        `${file}:${number}: the password of user "${user}" is ${hashKind(hash)}; only bcrypt ($2y$, $2b$) is accepted (create it with htpasswd -B)`,
      );
    }
    if (users.has(user)) throw new AuthConfigError(`${file}:${number}: user "${user}" is listed twice`);
    users.set(user, hash);
  }
  return users;
}

export function parseGroupFile(text: string, file: string): UserGroups {
  const groups = new Map<string, Set<string>>();
  for (const { line, number } of contentLines(text)) {
    const match = /^([^\s:]+)\s*:(.*)$/.exec(line);
    if (match === null) throw new AuthConfigError(`${file}:${number}: not a "group: user1 user2" line`);
    const group = match[1] ?? '';
    for (const user of (match[2] ?? '').split(/\s+/).filter((u) => u !== '')) {
      let of = groups.get(user);
      if (of === undefined) groups.set(user, (of = new Set()));
      of.add(group);
    }
  }
  return groups;
}

/** Lines that are neither blank nor `#` comments, numbered from 1. */
function* contentLines(text: string): Generator<{ line: string; number: number }> {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    yield { line, number: i + 1 };
  }
}

/** What a refused hash is, by its prefix only. */
function hashKind(hash: string): string {
  if (hash.startsWith('$2a$') || hash.startsWith('$2x$')) return 'an old bcrypt variant ($2a$/$2x$)';
  if (hash.startsWith('$2')) return 'a malformed bcrypt hash';
  if (hash.startsWith('$apr1$')) return 'an MD5 hash ($apr1$)';
  if (hash.startsWith('{SHA}')) return 'a SHA-1 hash ({SHA})';
  if (hash.startsWith('$1$')) return 'an MD5-crypt hash ($1$)';
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) return 'a SHA-crypt hash ($5$/$6$)';
  if (hash === '') return 'empty';
  return 'a crypt hash or plain text';
}
