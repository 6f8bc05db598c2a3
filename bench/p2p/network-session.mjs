// A test network for the length of one piece of work: removes what crashed runs left, builds the
// network, starts a driver on every host, and tears it all down on every way out.
import { join } from 'node:path';
import { stopAll } from '../registry/child-processes.mjs';
import { startDriver } from './driver-connection.mjs';
import { onTeardown } from './teardown-stack.mjs';
import { createTestNetwork, ownNamespaces, removeLeftovers } from './test-network.mjs';

/**
 * Builds the network and its drivers, hands them to `body`, and removes everything afterwards,
 * including on SIGINT/SIGTERM (teardown-stack.mjs) and, synchronously, on an exit nobody planned.
 */
export async function withNetwork({ hosts, bytesPerSecond, mtu, queueMs, logDir, log }, body) {
  const stale = removeLeftovers();
  if (stale.length > 0) log(`removed ${stale.length} namespaces left by an earlier run: ${stale.join(' ')}`);
  const net = createTestNetwork({ hosts, bytesPerSecond, mtu, queueMs });
  const onExit = () => net.close();
  process.on('exit', onExit);
  const drivers = [];
  const teardown = onTeardown(async () => {
    // Clients first: an app draining their in-flight requests on SIGTERM would wait for them.
    await Promise.all(drivers.map((d) => d.close()));
    await stopAll();
    net.close();
    process.off('exit', onExit);
    const left = ownNamespaces();
    if (left.length > 0) throw new Error(`namespaces left behind: ${left.join(' ')}`);
  });
  try {
    for (const host of net.hosts.values()) {
      drivers.push(startDriver({ host, logFile: join(logDir, `driver-${host.name}.log`) }));
    }
    return await body({ net, drivers: new Map(drivers.map((d) => [d.host.name, d])) });
  } finally {
    await teardown();
  }
}
