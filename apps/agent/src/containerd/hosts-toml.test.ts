import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import {
  HOSTS_TOML_MARKER,
  isOurHostsToml,
  renderHostsToml,
  tomlString,
  validateMirrorUrl,
  validateRegistryName,
} from './hosts-toml.js';

const mirror = 'http://127.0.0.1:16000';

describe('renderHostsToml', () => {
  it('sends docker.io to the agent first, then Docker Hub', () => {
    expect(renderHostsToml({ registry: 'docker.io', mirror })).toBe(
      [
        HOSTS_TOML_MARKER,
        'server = "https://registry-1.docker.io"',
        '',
        '[host."http://127.0.0.1:16000"]',
        '  capabilities = ["pull", "resolve"]',
        '  dial_timeout = "500ms"',
        '',
      ].join('\n'),
    );
  });

  it('keeps https://<registry> as the upstream of other registries', () => {
    const doc = parse(renderHostsToml({ registry: 'ghcr.io', mirror }));
    expect(doc).toEqual({
      server: 'https://ghcr.io',
      host: { [mirror]: { capabilities: ['pull', 'resolve'], dial_timeout: '500ms' } },
    });
  });

  it('writes no server for _default, so containerd falls back to the pulled host', () => {
    const doc = parse(renderHostsToml({ registry: '_default', mirror }));
    expect(doc['server']).toBeUndefined();
    expect(Object.keys(doc['host'] as object)).toEqual([mirror]);
  });

  it('keeps the port, and plain http for localhost as containerd does', () => {
    expect(parse(renderHostsToml({ registry: 'localhost:5000', mirror }))['server']).toBe(
      'http://localhost:5000',
    );
    expect(parse(renderHostsToml({ registry: 'registry.example:5000', mirror }))['server']).toBe(
      'https://registry.example:5000',
    );
  });

  it('marks its output as ours', () => {
    expect(isOurHostsToml(renderHostsToml({ registry: 'docker.io', mirror }))).toBe(true);
    expect(isOurHostsToml('server = "https://registry-1.docker.io"\n')).toBe(false);
  });
});

describe('tomlString', () => {
  it('escapes quotes, backslashes and control characters', () => {
    const tricky = 'a"b\\c\nd\te\u0000f\u007fg é';
    expect(parse(`v = ${tomlString(tricky)}`)['v']).toBe(tricky);
  });
});

describe('validateRegistryName', () => {
  it.each(['docker.io', 'ghcr.io', '_default', 'localhost:5000', 'my-registry.example.com'])(
    'accepts %s',
    (name) => {
      expect(validateRegistryName(name)).toBe(name);
    },
  );

  it.each([
    '',
    '.',
    '..',
    '../x',
    'a/b',
    '/etc',
    'docker.io/library',
    'x:0',
    'x:99999',
    '-x',
    'a..b',
    '_other',
  ])('rejects %j', (name) => {
    expect(() => validateRegistryName(name)).toThrow(/invalid registry name/);
  });
});

describe('validateMirrorUrl', () => {
  it('normalises a trailing slash away', () => {
    expect(validateMirrorUrl('http://127.0.0.1:16000/')).toBe('http://127.0.0.1:16000');
  });

  it.each(['127.0.0.1:16000', 'ftp://x', 'http://u:p@x', 'http://x/?a=1'])('rejects %s', (raw) => {
    expect(() => validateMirrorUrl(raw)).toThrow(/invalid --mirror/);
  });
});
