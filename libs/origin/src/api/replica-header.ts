/**
 * The header that marks an upload as a replica: a copy one origin pushes to another
 * owner of the blob. The receiving origin stores it and does not replicate it again,
 * which is what keeps replication from bouncing between owners.
 */
export const REPLICA_HEADER = 'x-kraken-replica';
