/** An in-memory DNS resolver whose answers tests change between refreshes. */
import type { DnsResolver } from '../dns-members.js';

export interface FakeResolver extends DnsResolver {
  a: Map<string, string[]>;
  aaaa: Map<string, string[]>;
  srv: Map<string, Array<{ name: string; port: number; priority: number; weight: number }>>;
  /** When set, every lookup rejects with this error code. */
  failWith: string | undefined;
  lookups: number;
}

function dnsError(code: string, name: string): Error {
  return Object.assign(new Error(`${code} ${name}`), { code });
}

export function createFakeResolver(): FakeResolver {
  const fake: FakeResolver = {
    a: new Map(),
    aaaa: new Map(),
    srv: new Map(),
    failWith: undefined,
    lookups: 0,
    resolve4: (name) => answer(fake.a, name),
    resolve6: (name) => answer(fake.aaaa, name),
    resolveSrv: (name) => answer(fake.srv, name),
  };
  async function answer<T>(table: Map<string, T[]>, name: string): Promise<T[]> {
    fake.lookups++;
    if (fake.failWith !== undefined) throw dnsError(fake.failWith, name);
    const records = table.get(name);
    if (records === undefined) throw dnsError('ENOTFOUND', name);
    if (records.length === 0) throw dnsError('ENODATA', name);
    return records;
  }
  return fake;
}
