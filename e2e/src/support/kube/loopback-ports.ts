/**
 * Free TCP ports on 127.0.0.1, for programs that must be told their port. A port is free when
 * picked, not reserved: another process may bind it before ours does, which the control plane
 * answers by starting over (see control-plane.ts).
 */
import { createServer, type Server } from 'node:net';

/** A distinct port for each name; all are held open until every one is picked, so none repeats. */
export async function freeLoopbackPorts<Name extends string>(
  names: readonly Name[],
): Promise<Record<Name, number>> {
  const servers: Server[] = [];
  try {
    const ports: Partial<Record<Name, number>> = {};
    for (const name of names) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port from listen(0)');
      ports[name] = address.port;
    }
    return ports as Record<Name, number>;
  } finally {
    await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  }
}

/** What Go's net package says when a port is taken. */
export function saysPortTaken(log: string): boolean {
  return log.includes('address already in use');
}
