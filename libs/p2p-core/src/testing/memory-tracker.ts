/**
 * A tracker in memory, for swarm tests: every announcer is handed every other peer of
 * the blob, complete ones first, and told to announce again every 200 ms.
 */
import type { AnnouncedPeer } from '../announce/announce-protocol.js';
import type { SchedulerAnnouncer } from '../scheduler/scheduler-deps.js';

export function memoryTracker(): SchedulerAnnouncer {
  const swarms = new Map<string, Map<string, AnnouncedPeer>>();
  return {
    announce(request) {
      const swarm = swarms.get(request.blob) ?? new Map<string, AnnouncedPeer>();
      swarms.set(request.blob, swarm);
      swarm.set(request.peerId, {
        peerId: request.peerId,
        host: request.address.host,
        port: request.address.port,
        complete: request.complete,
        origin: request.origin ?? false,
      });
      const others = [...swarm.values()].filter((p) => p.peerId !== request.peerId);
      others.sort((a, b) => Number(b.complete) - Number(a.complete));
      return Promise.resolve({ peers: others, intervalSeconds: 0.2 });
    },
  };
}
