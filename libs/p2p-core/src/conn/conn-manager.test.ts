import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createConnManager, type ConnManager, type ConnManagerOptions } from './conn-manager.js';
import type { PeerConnEvent } from './peer-conn.js';

const BLOB = 'c'.repeat(64);

interface Node {
  readonly id: string;
  readonly manager: ConnManager;
  readonly events: PeerConnEvent[];
  readonly warnings: object[];
  port: number;
}

const nodes: Node[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.manager.close()));
});

async function node(id: string, options: Partial<ConnManagerOptions> = {}, listen = true): Promise<Node> {
  const events: PeerConnEvent[] = [];
  const warnings: object[] = [];
  const manager = createConnManager({
    local: { clusterId: 'test', peerId: id.repeat(40) },
    onEvent: (event) => events.push(event),
    logger: { debug() {}, warn: (obj) => warnings.push(obj) },
    ...options,
  });
  const created: Node = { id: id.repeat(40), manager, events, warnings, port: 0 };
  nodes.push(created);
  if (listen) created.port = (await manager.listen({ host: '127.0.0.1', port: 0 })).port;
  return created;
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

function opened(n: Node): string[] {
  return n.events.flatMap((e) => (e.type === 'open' ? [e.handshake.peerId] : []));
}

describe('ConnManager', () => {
  it('dials a peer and reports the open connection on both sides', async () => {
    const a = await node('a', { handshakeBlobs: () => ({ offered: [], wanted: [BLOB] }) });
    const b = await node('b');
    const conn = await a.manager.dial({ host: '127.0.0.1', port: b.port, peerId: b.id });
    expect(conn.remote?.peerId).toBe(b.id);
    await expect(b.manager.listen({ port: 0 })).rejects.toMatchObject({
      code: 'KRAKEN_P2P_ALREADY_LISTENING',
    });
    expect(a.manager.get(b.id)).toBe(conn);
    await until(() => b.manager.get(a.id) !== undefined);
    expect(b.manager.get(a.id)?.remote?.wanted).toEqual([BLOB]);
    // Dialing again hands back the same connection.
    expect(await a.manager.dial({ host: '127.0.0.1', port: b.port, peerId: b.id })).toBe(conn);
    conn.send({ type: 'have', blobId: BLOB, index: 4 });
    await until(() => b.events.some((e) => e.type === 'message'));
    expect(b.events.map((e) => e.type)).toEqual(['open', 'message']);
  });

  it('drops a hostile peer with a ProtocolError and keeps serving others', async () => {
    const b = await node('b');
    const hostile = net.connect({ host: '127.0.0.1', port: b.port });
    hostile.on('error', () => {});
    hostile.resume();
    hostile.write(Buffer.from([0, 0, 0, 9, 0xff, 1, 2, 3, 4, 5, 6, 7, 8]));
    await new Promise((resolve) => hostile.once('close', resolve));
    expect(b.warnings).toContainEqual(expect.objectContaining({ code: 'KRAKEN_P2P_UNKNOWN_MESSAGE_TYPE' }));
    expect(b.events).toEqual([]);
    expect(b.manager.size).toBe(0);
    const a = await node('a');
    const conn = await a.manager.dial({ host: '127.0.0.1', port: b.port });
    expect(conn.state).toBe('open');
  });

  it('rejects a dial to a peer of another cluster with the protocol error', async () => {
    const a = await node('a');
    const b = await node('b', { local: { clusterId: 'elsewhere', peerId: 'b'.repeat(40) } });
    await expect(a.manager.dial({ host: '127.0.0.1', port: b.port })).rejects.toMatchObject({
      name: 'ProtocolError',
      code: 'KRAKEN_P2P_UNKNOWN_CLUSTER',
    });
    await until(() => b.warnings.some((w) => (w as { code?: string }).code === 'KRAKEN_P2P_UNKNOWN_CLUSTER'));
  });

  it('keeps the connection dialed by the lower peer id when both dial at once', async () => {
    const a = await node('a');
    const b = await node('b');
    await Promise.all([
      a.manager.dial({ host: '127.0.0.1', port: b.port, peerId: b.id }),
      b.manager.dial({ host: '127.0.0.1', port: a.port, peerId: a.id }),
    ]);
    await until(() => a.manager.size === 1 && b.manager.size === 1);
    // 'a…' < 'b…', so both keep the connection a dialed.
    const fromA = a.manager.get(b.id);
    const fromB = b.manager.get(a.id);
    expect(fromA?.direction).toBe('outbound');
    expect(fromB?.direction).toBe('inbound');
    expect([...a.manager.openConnections()]).toEqual([fromA]);
    fromB?.send({ type: 'complete', blobId: BLOB });
    await until(() => a.events.some((e) => e.type === 'message'));
    // Every 'open' reported is matched by a 'close' unless it is the kept connection.
    for (const n of [a, b]) {
      const opens = n.events.filter((e) => e.type === 'open').length;
      const closes = n.events.filter((e) => e.type === 'close').length;
      expect(opens - closes).toBe(1);
      expect(opened(n).every((id) => id !== n.id)).toBe(true);
    }
  });

  it('refuses connections past maxConnections, inbound and outbound', async () => {
    const b = await node('b', { config: { maxConnections: 1 } });
    const a = await node('a');
    const c = await node('c');
    await a.manager.dial({ host: '127.0.0.1', port: b.port });
    await expect(c.manager.dial({ host: '127.0.0.1', port: b.port })).rejects.toMatchObject({
      name: 'ConnectionError',
    });
    expect(b.warnings).toContainEqual(expect.objectContaining({ maxConnections: 1 }));
    expect(b.manager.size).toBe(1);
    await expect(b.manager.dial({ host: '127.0.0.1', port: c.port })).rejects.toMatchObject({
      code: 'KRAKEN_P2P_TOO_MANY_CONNECTIONS',
    });
  });

  it('rejects a dial that cannot connect with a socket error', async () => {
    const a = await node('a');
    const closedServer = net.createServer();
    await new Promise<void>((resolve) => closedServer.listen(0, '127.0.0.1', resolve));
    const address = closedServer.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    await new Promise((resolve) => closedServer.close(resolve));
    await expect(a.manager.dial({ host: '127.0.0.1', port })).rejects.toMatchObject({
      code: 'KRAKEN_P2P_SOCKET_ERROR',
    });
    expect(a.manager.size).toBe(0);
  });

  it('caps handshake blob lists and refuses inbound peers when the handshake cannot be built', async () => {
    const many = Array.from({ length: 2500 }, (_, i) => i.toString(16).padStart(64, '0'));
    const a = await node('a', { handshakeBlobs: () => ({ offered: many, wanted: many }) });
    const b = await node('b', { handshakeBlobs: () => ({ offered: ['not-an-id'], wanted: [] }) });
    const c = await node('c');
    const conn = await c.manager.dial({ host: '127.0.0.1', port: a.port });
    expect(conn.remote?.offered).toHaveLength(2000);
    expect(conn.remote?.wanted).toHaveLength(0);
    await expect(c.manager.dial({ host: '127.0.0.1', port: b.port })).rejects.toMatchObject({
      name: 'ConnectionError',
    });
    expect(b.warnings.length).toBeGreaterThan(0);
    await expect(b.manager.dial({ host: '127.0.0.1', port: c.port })).rejects.toMatchObject({
      code: 'KRAKEN_P2P_MALFORMED_MESSAGE',
    });
    expect(b.manager.size).toBe(0);
  });

  it('refuses to connect to itself and to an unexpected peer id', async () => {
    const a = await node('a');
    const b = await node('b');
    await expect(a.manager.dial({ host: '127.0.0.1', port: a.port })).rejects.toMatchObject({
      code: 'KRAKEN_P2P_SELF_CONNECTION',
    });
    await expect(
      a.manager.dial({ host: '127.0.0.1', port: b.port, peerId: 'd'.repeat(40) }),
    ).rejects.toMatchObject({
      code: 'KRAKEN_P2P_UNEXPECTED_PEER',
    });
    await until(() => a.manager.size === 0);
  });

  it('closes every connection once, however often close is called', async () => {
    const a = await node('a');
    const b = await node('b');
    await a.manager.dial({ host: '127.0.0.1', port: b.port });
    await until(() => b.manager.size === 1);
    const first = a.manager.close();
    expect(a.manager.close()).toBe(first);
    await first;
    expect(a.manager.size).toBe(0);
    const closes = a.events.filter((e) => e.type === 'close');
    expect(closes).toHaveLength(1);
    expect(closes[0]?.type === 'close' && closes[0].reason.code).toBe('KRAKEN_P2P_CLOSED_LOCALLY');
    await until(() => b.events.some((e) => e.type === 'close'));
    await expect(a.manager.dial({ host: '127.0.0.1', port: b.port })).rejects.toMatchObject({
      code: 'KRAKEN_P2P_MANAGER_CLOSED',
    });
    const refused = net.connect({ host: '127.0.0.1', port: a.port });
    await new Promise((resolve) => refused.once('error', resolve));
  });

  it('closes when its AbortSignal fires', async () => {
    const controller = new AbortController();
    const a = await node('a', { signal: controller.signal });
    const b = await node('b');
    const conn = await a.manager.dial({ host: '127.0.0.1', port: b.port });
    controller.abort();
    expect(conn.state).toBe('closed');
    await expect(a.manager.listen({ port: 0 })).rejects.toMatchObject({ code: 'KRAKEN_P2P_MANAGER_CLOSED' });
  });

  it('dials through an injected dialer', async () => {
    const b = await node('b');
    const targets: string[] = [];
    const a = await node(
      'a',
      {
        dial: ({ host, port }) => {
          targets.push(`${host}:${port}`);
          return net.connect({ host: '127.0.0.1', port: b.port });
        },
      },
      false,
    );
    const conn = await a.manager.dial({ host: 'peer.example', port: 1 });
    expect(targets).toEqual(['peer.example:1']);
    expect(conn.remoteAddress).toBe('peer.example:1');
  });
});
