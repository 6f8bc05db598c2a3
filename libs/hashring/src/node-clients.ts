/**
 * One client per ring member, for the ring clients of the origins, trackers and
 * build-index: built on first use, and closed when the member leaves the ring (so a
 * departed node keeps no idle sockets open) or when the whole set closes.
 */
import type { MembershipListener } from './membership.js';
import type { RingNode } from './ring-node.js';

export interface NodeClients<C> {
  /** The node's client, built on first use. */
  get(node: RingNode): C;
  /** Stops following membership and closes every client; idempotent. */
  close(): Promise<void>;
}

export function createNodeClients<C extends { close(): Promise<void> }>(
  ring: { watchMembers?: ((listener: MembershipListener) => () => void) | undefined },
  build: (node: RingNode) => C,
): NodeClients<C> {
  const clients = new Map<string, C>();
  let closed = false;
  const unwatch = ring.watchMembers?.((change) => {
    for (const node of change.removed) {
      const client = clients.get(node.id);
      clients.delete(node.id);
      void client?.close().catch(() => {});
    }
  });

  return {
    get(node) {
      let client = clients.get(node.id);
      if (client === undefined) {
        client = build(node);
        clients.set(node.id, client);
      }
      return client;
    },
    async close() {
      if (closed) return;
      closed = true;
      unwatch?.();
      const all = [...clients.values()];
      clients.clear();
      await Promise.all(all.map((client) => client.close()));
    },
  };
}
