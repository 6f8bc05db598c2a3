import { describe, expect, it } from 'vitest';
import { parseDnsTarget, resolveDnsMembers } from './dns-members.js';
import { InvalidRingMemberError, MembershipResolveError } from './errors.js';
import { createMembership, type MembershipChange } from './membership.js';
import { createRingNode } from './ring-node.js';
import { createFakeResolver } from './testing/fake-resolver.js';
import { createManualClock } from '@kraken/foundation/testing';

const ids = (nodes: readonly { id: string }[]): string[] => nodes.map((n) => n.id).sort();

describe('DNS targets', () => {
  it('parses name:port and srv: names', () => {
    expect(parseDnsTarget('origin.kraken.svc.cluster.local:15002')).toEqual({
      kind: 'address',
      name: 'origin.kraken.svc.cluster.local',
      port: 15002,
    });
    expect(parseDnsTarget('srv:_http._tcp.origin.kraken.svc')).toEqual({
      kind: 'srv',
      name: '_http._tcp.origin.kraken.svc',
    });
    for (const bad of [
      'origin',
      'origin:',
      'origin:0',
      'origin:70000',
      'ori gin:1',
      ':1',
      'srv:',
      'srv:bad name',
      'origin:1x',
    ]) {
      expect(() => parseDnsTarget(bad), bad).toThrow(InvalidRingMemberError);
    }
  });

  it('turns A and AAAA records into members on the port, IPv6 bracketed', async () => {
    const resolver = createFakeResolver();
    resolver.a.set('origin', ['10.0.0.1', '10.0.0.2', '10.0.0.1']);
    resolver.aaaa.set('origin', ['fd00::1']);
    const nodes = await resolveDnsMembers({ kind: 'address', name: 'origin', port: 15002 }, resolver, 'http');
    expect(ids(nodes)).toEqual(['10.0.0.1:15002', '10.0.0.2:15002', '[fd00::1]:15002']);
    expect(nodes.find((n) => n.host === 'fd00::1')?.url).toBe('http://[fd00::1]:15002');
  });

  it('accepts a name with only one address family, or none', async () => {
    const resolver = createFakeResolver();
    resolver.aaaa.set('v6only', ['::1']);
    const v6 = await resolveDnsMembers({ kind: 'address', name: 'v6only', port: 1 }, resolver, 'https');
    expect(v6.map((n) => n.url)).toEqual(['https://[::1]:1']);
    expect(await resolveDnsMembers({ kind: 'address', name: 'missing', port: 1 }, resolver, 'http')).toEqual(
      [],
    );
  });

  it('turns SRV records into members by target host and port', async () => {
    const resolver = createFakeResolver();
    resolver.srv.set('_http._tcp.origin', [
      { name: 'origin-0.origin.kraken.svc.', port: 15002, priority: 0, weight: 50 },
      { name: 'origin-1.origin.kraken.svc', port: 15012, priority: 0, weight: 50 },
    ]);
    const nodes = await resolveDnsMembers({ kind: 'srv', name: '_http._tcp.origin' }, resolver, 'http');
    expect(ids(nodes)).toEqual(['origin-0.origin.kraken.svc:15002', 'origin-1.origin.kraken.svc:15012']);
    expect(nodes.every((n) => n.weight === 1)).toBe(true);
  });

  it('reports lookup failures other than "no such name" as MembershipResolveError', async () => {
    const resolver = createFakeResolver();
    resolver.failWith = 'ETIMEOUT';
    await expect(
      resolveDnsMembers({ kind: 'address', name: 'origin', port: 1 }, resolver, 'http'),
    ).rejects.toThrow(MembershipResolveError);
    resolver.failWith = undefined;
    resolver.srv.set('_x._tcp.bad', [{ name: 'bad host', port: 1, priority: 0, weight: 0 }]);
    await expect(resolveDnsMembers({ kind: 'srv', name: '_x._tcp.bad' }, resolver, 'http')).rejects.toThrow(
      MembershipResolveError,
    );
  });
});

describe('membership', () => {
  it('keeps a static list as it is, without timers', async () => {
    const timers = createManualClock();
    const nodes = [createRingNode({ host: '10.0.0.1', port: 1 })];
    const membership = createMembership(
      { source: { kind: 'static', nodes }, refreshIntervalMs: 1_000 },
      { timers },
    );
    await membership.start();
    expect(membership.current()).toEqual(nodes);
    expect(await membership.refresh()).toBeUndefined();
    expect(timers.pending()).toBe(0);
    membership.close();
  });

  it('refreshes DNS members on the interval and tells watchers what changed', async () => {
    const timers = createManualClock();
    const resolver = createFakeResolver();
    resolver.a.set('origin', ['10.0.0.1', '10.0.0.2']);
    const membership = createMembership(
      {
        source: { kind: 'dns', target: parseDnsTarget('origin:15002'), scheme: 'http' },
        refreshIntervalMs: 30_000,
      },
      { timers, resolver },
    );
    const changes: MembershipChange[] = [];
    const stop = membership.watch((change) => changes.push(change));
    await membership.start();
    expect(ids(membership.current())).toEqual(['10.0.0.1:15002', '10.0.0.2:15002']);
    expect(changes).toHaveLength(1);
    expect(ids(changes[0]?.added ?? [])).toEqual(['10.0.0.1:15002', '10.0.0.2:15002']);

    resolver.a.set('origin', ['10.0.0.2', '10.0.0.3']);
    resolver.aaaa.set('origin', ['fd00::9']);
    await timers.advance(29_999);
    expect(changes).toHaveLength(1);
    await timers.advance(1);
    expect(changes).toHaveLength(2);
    expect(ids(changes[1]?.added ?? [])).toEqual(['10.0.0.3:15002', '[fd00::9]:15002']);
    expect(ids(changes[1]?.removed ?? [])).toEqual(['10.0.0.1:15002']);
    expect(ids(membership.current())).toEqual(['10.0.0.2:15002', '10.0.0.3:15002', '[fd00::9]:15002']);

    // An unchanged answer notifies nobody.
    await timers.advance(30_000);
    expect(changes).toHaveLength(2);

    stop();
    resolver.a.set('origin', ['10.0.0.2']);
    await timers.advance(30_000);
    expect(changes).toHaveLength(2);
    expect(ids(membership.current())).toEqual(['10.0.0.2:15002', '[fd00::9]:15002']);
    membership.close();
    expect(timers.pending()).toBe(0);
  });

  it('keeps the previous members when a refresh fails, and recovers later', async () => {
    const timers = createManualClock();
    const resolver = createFakeResolver();
    resolver.srv.set('_http._tcp.origin', [{ name: 'origin-0', port: 15002, priority: 0, weight: 1 }]);
    const warnings: string[] = [];
    const membership = createMembership(
      {
        source: { kind: 'dns', target: parseDnsTarget('srv:_http._tcp.origin'), scheme: 'http' },
        refreshIntervalMs: 1_000,
      },
      { timers, resolver, logger: { info: () => {}, warn: (_obj, msg) => warnings.push(msg) } },
    );
    await membership.start();
    expect(ids(membership.current())).toEqual(['origin-0:15002']);

    resolver.failWith = 'ESERVFAIL';
    await expect(membership.refresh()).rejects.toThrow(MembershipResolveError);
    await timers.advance(1_000);
    expect(warnings).toHaveLength(1);
    expect(ids(membership.current())).toEqual(['origin-0:15002']);

    resolver.failWith = undefined;
    resolver.srv.set('_http._tcp.origin', [
      { name: 'origin-0', port: 15002, priority: 0, weight: 1 },
      { name: 'origin-1', port: 15002, priority: 0, weight: 1 },
    ]);
    await timers.advance(1_000);
    expect(ids(membership.current())).toEqual(['origin-0:15002', 'origin-1:15002']);
    membership.close();
  });

  it('starts even when DNS is down, and shares one lookup between concurrent refreshes', async () => {
    const timers = createManualClock();
    const resolver = createFakeResolver();
    resolver.failWith = 'ECONNREFUSED';
    const membership = createMembership(
      {
        source: { kind: 'dns', target: parseDnsTarget('origin:1'), scheme: 'http' },
        refreshIntervalMs: 1_000,
      },
      { timers, resolver },
    );
    await membership.start();
    expect(membership.current()).toEqual([]);
    resolver.failWith = undefined;
    resolver.a.set('origin', ['10.0.0.1']);
    const before = resolver.lookups;
    const [first, second] = await Promise.all([membership.refresh(), membership.refresh()]);
    expect(first).toBe(second);
    expect(resolver.lookups - before).toBe(2); // one A and one AAAA lookup
    membership.close();
    await timers.advance(10_000);
    expect(resolver.lookups - before).toBe(2);
  });
});
