/** The slice of the origin ring that replication runs on. */
import type { FailoverRing, HealthListener, MembershipListener, RingNode } from '@kraken/hashring';

/** What replication needs of the origin ring; a LiveRing fits. */
export interface ReplicationRing extends FailoverRing {
  members(): readonly RingNode[];
  owners(key: string, n?: number): RingNode[];
  watchMembers(listener: MembershipListener): () => void;
  watchHealth(listener: HealthListener): () => void;
}
