/**
 * Ring members from DNS: `host:port` resolves A and AAAA records (every address
 * becomes a member on that port), `srv:_service._proto.name` resolves SRV records
 * (every target host and port becomes a member). SRV targets keep their host names
 * as ids, so a StatefulSet pod that changes IP keeps its keys.
 */
import { InvalidRingMemberError, MembershipResolveError } from './errors.js';
import { createRingNode, type RingNode, type RingScheme } from './ring-node.js';

/** The subset of node:dns/promises the ring uses; `Resolver` instances fit too. */
export interface DnsResolver {
  resolve4(hostname: string): Promise<string[]>;
  resolve6(hostname: string): Promise<string[]>;
  resolveSrv(
    hostname: string,
  ): Promise<Array<{ name: string; port: number; priority: number; weight: number }>>;
}

export type DnsTarget =
  | { readonly kind: 'address'; readonly name: string; readonly port: number }
  | { readonly kind: 'srv'; readonly name: string };

const SRV_PREFIX = 'srv:';
// A DNS name: dot-separated labels of letters, digits, '-' and '_' (SRV labels).
const DNS_NAME =
  /^(?=.{1,253}\.?$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/** Parses `name:port` or `srv:_service._proto.name`. */
export function parseDnsTarget(spec: string): DnsTarget {
  const input = spec.trim();
  if (input.toLowerCase().startsWith(SRV_PREFIX)) {
    const name = input.slice(SRV_PREFIX.length);
    if (!DNS_NAME.test(name)) throw new InvalidRingMemberError(`"${spec}" is not a valid SRV name`);
    return { kind: 'srv', name };
  }
  const colon = input.lastIndexOf(':');
  const name = input.slice(0, colon);
  const port = Number(input.slice(colon + 1));
  if (
    colon <= 0 ||
    !DNS_NAME.test(name) ||
    !/^\d+$/.test(input.slice(colon + 1)) ||
    port < 1 ||
    port > 65535
  ) {
    throw new InvalidRingMemberError(`"${spec}" must be "name:port" or "srv:_service._proto.name"`);
  }
  return { kind: 'address', name, port };
}

// "No such name" and "no records of this type" mean an empty answer, not a failure:
// a headless service with no ready pods has no records.
function isEmptyAnswer(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOTFOUND' || code === 'ENODATA';
}

async function settle<T>(lookup: Promise<T[]>): Promise<T[]> {
  try {
    return await lookup;
  } catch (error) {
    if (isEmptyAnswer(error)) return [];
    throw error;
  }
}

/** Resolves the target to ring nodes; throws MembershipResolveError on DNS failure. */
export async function resolveDnsMembers(
  target: DnsTarget,
  resolver: DnsResolver,
  scheme: RingScheme,
): Promise<RingNode[]> {
  const label = target.kind === 'srv' ? `${SRV_PREFIX}${target.name}` : `${target.name}:${target.port}`;
  let nodes: RingNode[];
  try {
    if (target.kind === 'srv') {
      const records = await settle(resolver.resolveSrv(target.name));
      // SRV weights steer random load balancing; ring members stay equal peers.
      nodes = records.map((r) => createRingNode({ host: r.name, port: r.port, scheme }));
    } else {
      // Both families are required to answer (or to say "none"): a partial answer
      // would drop members and move their keys for the length of a DNS hiccup.
      const [v4, v6] = await Promise.all([
        settle(resolver.resolve4(target.name)),
        settle(resolver.resolve6(target.name)),
      ]);
      nodes = [...v4, ...v6].map((host) => createRingNode({ host, port: target.port, scheme }));
    }
  } catch (cause) {
    throw new MembershipResolveError(label, cause);
  }
  const unique = new Map(nodes.map((node) => [node.id, node]));
  return [...unique.values()];
}
