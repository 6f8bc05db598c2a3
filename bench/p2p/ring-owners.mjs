// Which origins and which tracker own the blob, computed the way every app computes it: the
// built @kraken/hashring (weighted rendezvous order over the ring members' `<ip>:<port>` ids,
// keyed by the digest string). The bench lists the same members in every app's config
// (swarm-stack.mjs), so this order is the one the agents follow: they announce to the first
// tracker of the digest's order while it is healthy, and read from the first origin owner.
import { access } from 'node:fs/promises';
import { MAX_ORIGIN_REPLICAS, ringMembers } from './swarm-stack.mjs';

const HASHRING = new URL('../../libs/hashring/dist/index.js', import.meta.url);

async function loadHashring() {
  try {
    await access(HASHRING);
  } catch {
    throw new Error(`${HASHRING.pathname} is missing; build the libs first (npm run bench:ha does)`);
  }
  return import(HASHRING.href);
}

/** The hosts of `hosts` in the digest's rendezvous order over `members`, best first. */
async function rankedHosts(hosts, members, replicas, digest) {
  const { createRing, parseRingNode } = await loadHashring();
  const ring = createRing({ nodes: members.map((m) => parseRingNode(m)), replicas });
  const byId = new Map(members.map((m, i) => [m, hosts[i]]));
  return ring.ranked(digest).map((node) => {
    const host = byId.get(node.id);
    if (host === undefined) throw new Error(`ring member ${node.id} is not a bench host`);
    return host;
  });
}

/** { originOwners: hosts holding the blob, first owner first; trackerOwner: the announce target }. */
export async function blobOwners({ originHosts, trackerHosts, digest }) {
  const replicas = Math.min(originHosts.length, MAX_ORIGIN_REPLICAS);
  const origins = await rankedHosts(originHosts, ringMembers.origins(originHosts), replicas, digest);
  const trackers = await rankedHosts(trackerHosts, ringMembers.trackers(trackerHosts), 1, digest);
  return { originOwners: origins.slice(0, replicas), trackerOwner: trackers[0] };
}
