import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRingMemberError } from './errors.js';
import { createRingNode, formatHostPort, parseRingNode } from './ring-node.js';

describe('ring nodes', () => {
  it('brackets IPv6 hosts in ids and URLs', () => {
    expect(formatHostPort('::1', 15002)).toBe('[::1]:15002');
    expect(formatHostPort('10.0.0.1', 15002)).toBe('10.0.0.1:15002');
    expect(formatHostPort('origin-0.origin', 15002)).toBe('origin-0.origin:15002');
    const node = createRingNode({ host: '::1', port: 15002 });
    expect(node).toEqual({
      id: '[::1]:15002',
      host: '::1',
      port: 15002,
      url: 'http://[::1]:15002',
      weight: 1,
    });
    expect(createRingNode({ host: 'fe80::1', port: 443, scheme: 'https' }).url).toBe('https://[fe80::1]:443');
  });

  it('gives every spelling of the same IPv6 address one id and a URL that parses back to it', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 1, max: 65535 }), (address, port) => {
        const node = createRingNode({ host: address, port });
        const url = new URL(node.url);
        expect(url.hostname).toBe(`[${node.host}]`);
        expect(url.port === '' ? 80 : Number(url.port)).toBe(port);
        expect(node.id).toBe(`[${node.host}]:${port}`);
        expect(createRingNode({ host: `[${address}]`, port }).id).toBe(node.id);
        expect(parseRingNode(`[${address}]:${port}`).id).toBe(node.id);
      }),
    );
    expect(createRingNode({ host: '0:0:0:0:0:0:0:1', port: 1 }).id).toBe('[::1]:1');
  });

  it('parses host:port, [v6]:port and URLs into the same canonical ids', () => {
    expect(parseRingNode('Origin-0.Origin.Kraken.svc:15002').id).toBe('origin-0.origin.kraken.svc:15002');
    expect(parseRingNode('http://10.0.0.1:15002').url).toBe('http://10.0.0.1:15002');
    expect(parseRingNode('https://origin:8443/').url).toBe('https://origin:8443');
    expect(parseRingNode('http://origin').id).toBe('origin:80');
    expect(parseRingNode('https://origin').id).toBe('origin:443');
    expect(parseRingNode('origin:80').id).toBe('origin:80');
    expect(parseRingNode('[2001:db8::1]:15002', { scheme: 'https', weight: 2 })).toEqual({
      id: '[2001:db8::1]:15002',
      host: '2001:db8::1',
      port: 15002,
      url: 'https://[2001:db8::1]:15002',
      weight: 2,
    });
    expect(createRingNode({ host: 'origin-0.origin.', port: 1 }).id).toBe('origin-0.origin:1');
  });

  it('rejects addresses that cannot be a member', () => {
    for (const bad of [
      'origin',
      '::1:15002',
      'ftp://origin:21',
      'http://origin:1/path',
      'http://user@origin:1',
      'origin:1?x=1',
      'origin:99999',
      '',
    ]) {
      expect(() => parseRingNode(bad), bad).toThrow(InvalidRingMemberError);
    }
    expect(() => createRingNode({ host: 'a b', port: 1 })).toThrow(InvalidRingMemberError);
    expect(() => createRingNode({ host: 'origin', port: 0 })).toThrow(InvalidRingMemberError);
    expect(() => createRingNode({ host: 'origin', port: 1, weight: -1 })).toThrow(InvalidRingMemberError);
    expect(() => createRingNode({ host: 'origin', port: 1, weight: Number.NaN })).toThrow(
      InvalidRingMemberError,
    );
  });
});
