/**
 * @kraken/p2p-core: the peer side of peer-to-peer blob distribution. The public face is
 * what an app needs to embed a peer (createPeerNode with its config, the swarm fetcher
 * for agents, the swarm seeder for origins), metainfo and its generator, and the
 * announce protocol with its clients, which the tracker shares. The wire format,
 * connections, piece storage and the scheduler stay private to the folders below.
 */
export { MIN_PIECE_LENGTH, pieceLengthFor } from './metainfo/piece-length.js';
export type { Metainfo, PieceHashing } from './metainfo/metainfo.js';
export {
  MAX_METAINFO_BYTES,
  metainfoId,
  metainfoSchema,
  parseMetainfo,
  serializeMetainfo,
} from './metainfo/metainfo.js';
export type { GenerateMetainfoOptions } from './metainfo/metainfo-generator.js';
export { generateMetainfo } from './metainfo/metainfo-generator.js';

export type {
  AnnounceBatchRequest,
  AnnounceBatchResponse,
  ParsedAnnounceBatchRequest,
  AnnounceRequest,
  ParsedAnnounceRequest,
  AnnounceResponse,
  AnnouncedPeer,
} from './announce/announce-protocol.js';
export {
  MAX_ANNOUNCE_PEERS,
  MAX_BATCH_BLOBS,
  announceBatchRequestSchema,
  announceBatchResponseSchema,
  announceRequestSchema,
  announceResponseSchema,
  announcedPeerSchema,
  peerAddressSchema,
  isUnspecifiedHost,
  parseAnnounceBatchRequest,
  parseAnnounceRequest,
} from './announce/announce-protocol.js';
export type { DecodedAnnounce, DecodedAnnounceBatch } from './announce/announce-binary.js';
export {
  ANNOUNCE_BATCH_BINARY_TYPE,
  ANNOUNCE_BINARY_TYPE,
  acceptsBinaryAnswer,
  decodeAnnounceAnswer,
  decodeAnnounceBatchAnswer,
  encodeAnnounceHeader,
  encodeAnnouncedPeer,
  encodePeerCount,
} from './announce/announce-binary.js';
export type { AnnounceClient, AnnounceClientOptions } from './announce/announce-client.js';
export { createAnnounceClient } from './announce/announce-client.js';
export type {
  AnnounceOutcome,
  TrackerRingClient,
  TrackerRingClientOptions,
} from './announce/tracker-ring-client.js';
export { createTrackerRingClient } from './announce/tracker-ring-client.js';
export type { AnnounceBatcher, AnnounceBatcherOptions } from './announce/announce-batcher.js';
export { createAnnounceBatcher } from './announce/announce-batcher.js';
export type { TrackerRingConfig } from './announce/tracker-ring-config.js';
export { trackerRingSchema } from './announce/tracker-ring-config.js';

export type { PeerConfig, PeerConfigDefaults } from './node/peer-config.js';
export { peerConfigSchema, peerConfigShape } from './node/peer-config.js';
export type { PeerNode, PeerNodeOptions } from './node/peer-node.js';
export { createPeerNode } from './node/peer-node.js';
export type { SwarmFetcher, SwarmFetcherOptions } from './node/swarm-fetcher.js';
export { createSwarmFetcher } from './node/swarm-fetcher.js';
export type { SwarmSeeder, SwarmSeederOptions } from './node/swarm-seeder.js';
export { createSwarmSeeder, firstPieceOf } from './node/swarm-seeder.js';
export type { BlobFile, PieceReader, PieceReaderOptions, RangeReader } from './storage/piece-reader.js';
export { createPieceReader } from './storage/piece-reader.js';
