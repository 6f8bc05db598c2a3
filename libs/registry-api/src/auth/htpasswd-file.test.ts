import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { AuthConfigError } from '../errors.js';
import { parseGroupFile, parseHtpasswd } from './htpasswd-file.js';

const hash = bcrypt.hashSync('secret', 4);
const apr1 = '$apr1$Ll6y4C1A$L9e9kR9WdUQH1uUM0Tlyn/';

function refusal(text: string): AuthConfigError {
  try {
    parseHtpasswd(text, '/etc/kraken/htpasswd');
  } catch (err) {
    if (err instanceof AuthConfigError) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('htpasswd file', () => {
  it('reads bcrypt users, skipping blank lines, comments and CRLF endings', () => {
    const y = hash.replace(/^\$2b\$/, '$2y$');
    const users = parseHtpasswd(`# users\r\nalice:${hash}\r\n\n  bob:${y}  \n`, 'htpasswd');
    expect([...users.keys()]).toEqual(['alice', 'bob']);
    expect(users.get('alice')).toBe(hash);
    expect(users.get('bob')).toBe(y);
  });

  it.each([
    [apr1, /an MD5 hash \(\$apr1\$\)/],
    ['{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=', /SHA-1/],
    ['$6$salt$abcdef', /SHA-crypt/],
    ['plaintext-password', /crypt hash or plain text/],
    [hash.replace(/^\$2b\$/, '$2a$'), /old bcrypt variant/],
  ])('refuses a file with a non-bcrypt hash, naming file and line but never the hash (%s)', (bad, kind) => {
    const err = refusal(`alice:${hash}\n# comment\ncarol:${bad}\n`);
    expect(err.code).toBe('KRAKEN_REGISTRY_AUTH_CONFIG_INVALID');
    expect(err.message).toMatch(/^\/etc\/kraken\/htpasswd:3: the password of user "carol" is /);
    expect(err.message).toMatch(kind);
    expect(err.message).not.toContain(bad);
    expect(err.message).not.toContain(hash);
  });

  it('refuses malformed lines without quoting them', () => {
    const err = refusal('just-a-password-typed-here\n');
    expect(err.message).toBe('/etc/kraken/htpasswd:1: not a "user:hash" line');
    expect(refusal(`:${hash}`).message).toMatch(/:1: not a "user:hash" line/);
    expect(refusal(`alice:${hash}\nalice:${hash}`).message).toMatch(/:2: user "alice" is listed twice/);
  });
});

describe('groups file', () => {
  it('maps users to their groups', () => {
    const groups = parseGroupFile('# groups\nci: robot alice\nadmins:alice\n\nempty:\n', 'groups');
    expect(groups.get('alice')).toEqual(new Set(['ci', 'admins']));
    expect(groups.get('robot')).toEqual(new Set(['ci']));
    expect(groups.get('nobody')).toBeUndefined();
  });

  it('names the line that is not a group', () => {
    expect(() => parseGroupFile('ci: robot\nno colon here\n', '/etc/groups')).toThrow(
      '/etc/groups:2: not a "group: user1 user2" line',
    );
  });
});
