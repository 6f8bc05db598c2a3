/**
 * Which node of the cluster sweeps which repository during backfill: the owner of a
 * repository is the first of the cluster's live members (this node, and the peers
 * that answered its last rules pull) in the repository's rendezvous order. Every node
 * computes the same order over the same member ids (host:port of the URLs the peers
 * are listed with), so each repository is swept by one node, and the share of a node
 * that died goes to the next one in its repositories' order at the next sweep.
 *
 * Writes are not split this way: each node queues the changes it accepted itself.
 */
import { createRing, parseRingNode, type RingNode } from '@kraken/hashring';

export interface Ownership {
  /** A snapshot of who owns what, for one sweep. */
  owners(): Promise<(repository: string) => boolean>;
}

export function createOwnership(options: {
  /** This node's base URL, as its peers list it. */
  readonly self: () => string;
  /** Peers that are alive now (base URLs as listed in `cluster.peers`). */
  readonly alivePeers: () => Promise<ReadonlySet<string>>;
}): Ownership {
  const nodeOf = (url: string): RingNode | undefined => {
    try {
      return parseRingNode(url);
    } catch {
      return undefined;
    }
  };
  return {
    async owners() {
      const self = nodeOf(options.self());
      const alive = [...(await options.alivePeers())]
        .map(nodeOf)
        .filter((n): n is RingNode => n !== undefined);
      if (self === undefined || alive.length === 0) return () => true;
      const members = new Map([self, ...alive].map((node) => [node.id, node]));
      const ring = createRing({ nodes: [...members.values()], replicas: 1 });
      return (repository) => ring.owners(repository, 1)[0]?.id === self.id;
    },
  };
}
