import { describe, expect, it } from 'vitest';
import type { MembershipListener } from './membership.js';
import { createNodeClients } from './node-clients.js';
import { parseRingNode } from './ring-node.js';

describe('createNodeClients', () => {
  it('builds one client per member, closes it when the member leaves, and all on close', async () => {
    let listener: MembershipListener | undefined;
    let unwatched = false;
    const ring = {
      watchMembers: (l: MembershipListener) => {
        listener = l;
        return () => {
          unwatched = true;
        };
      },
    };
    const closed: string[] = [];
    let built = 0;
    const clients = createNodeClients(ring, (node) => {
      built++;
      return { id: node.id, close: () => (closed.push(node.id), Promise.resolve()) };
    });
    const a = parseRingNode('10.0.0.1:15002');
    const b = parseRingNode('10.0.0.2:15002');
    expect(clients.get(a)).toBe(clients.get(a));
    clients.get(b);
    expect(built).toBe(2);

    listener?.({ members: [b], added: [], removed: [a] });
    expect(closed).toEqual([a.id]);
    // Back in the ring: a fresh client.
    clients.get(a);
    expect(built).toBe(3);

    await clients.close();
    await clients.close();
    expect(unwatched).toBe(true);
    expect(closed.sort()).toEqual([a.id, a.id, b.id].sort());
  });
});
