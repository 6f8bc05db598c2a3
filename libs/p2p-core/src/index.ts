/**
 * @kraken/p2p-core: peer-to-peer blob distribution: metainfo, the wire protocol,
 * piece storage and bandwidth limits.
 */
export { ProtocolError, InvalidMetainfoError, InvalidPieceIndexError } from './errors.js';
export type { ProtocolErrorCode } from './errors.js';
export {
  MIN_PIECE_LENGTH,
  MAX_PIECE_LENGTH,
  MAX_PIECE_COUNT,
  MAX_SWARM_BLOB_SIZE,
  pieceLengthFor,
} from './piece-length.js';
export type { Metainfo, PieceRange } from './metainfo.js';
export {
  MAX_METAINFO_BYTES,
  metainfoSchema,
  toMetainfo,
  parseMetainfo,
  serializeMetainfo,
  metainfoId,
  pieceCount,
  pieceRange,
  verifyPiece,
} from './metainfo.js';
export type { GenerateMetainfoOptions } from './metainfo-generator.js';
export { generateMetainfo } from './metainfo-generator.js';
export type {
  Message,
  MessageTypeName,
  HandshakeMessage,
  BitfieldMessage,
  HaveMessage,
  RequestMessage,
  PieceMessage,
  RejectMessage,
  RejectReason,
  CancelMessage,
  CompleteMessage,
  KeepaliveMessage,
} from './messages.js';
export {
  PROTOCOL_VERSION,
  MAX_CONTROL_FRAME_LENGTH,
  MAX_HANDSHAKE_BLOB_IDS,
  FRAME_HEADER_BYTES,
  PIECE_HEADER_BYTES,
  MessageType,
} from './messages.js';
export { isValidClusterId, isValidPeerId, isValidBlobId } from './handshake.js';
export type { FrameDecoder, FrameDecoderOptions, DecodeResult } from './frame-decoder.js';
export { createFrameDecoder, decodeFrames } from './frame-decoder.js';
export { encodeMessage } from './frame-encoder.js';
export type { Bitfield } from './bitfield.js';
export { createBitfield, bitfieldFromBuffer, bitfieldByteLength } from './bitfield.js';
export type { TokenBucket, TokenBucketClock, TokenBucketOptions, TakeOptions } from './token-bucket.js';
export { createTokenBucket, systemTokenBucketClock } from './token-bucket.js';
export type { ThrottleOptions } from './bandwidth-throttle.js';
export { createThrottle } from './bandwidth-throttle.js';
export type { BandwidthConfig, BandwidthLimiters } from './bandwidth-config.js';
export { bandwidthSchema, createBandwidthLimiters } from './bandwidth-config.js';
export type { PieceStore, PieceStoreOptions, PartialBlob, BlobAdopter } from './piece-store.js';
export { createPieceStore } from './piece-store.js';
export type { PieceStoreFileSystem } from './bitfield-file.js';
export {
  InvalidBitfieldError,
  PieceVerificationError,
  PieceNotAvailableError,
  PartialBlobIncompleteError,
  PartialBlobClosedError,
  TokenQueueFullError,
  TokenBucketClosedError,
} from './errors.js';
export type {
  AnnounceRequest,
  ParsedAnnounceRequest,
  AnnounceResponse,
  AnnouncedPeer,
} from './announce-protocol.js';
export {
  MAX_ANNOUNCE_PEERS,
  announceRequestSchema,
  announceResponseSchema,
  announcedPeerSchema,
  peerAddressSchema,
  isValidPeerHost,
  isUnspecifiedHost,
} from './announce-protocol.js';
export type { AnnounceClient, AnnounceClientOptions } from './announce-client.js';
export { createAnnounceClient } from './announce-client.js';
export type { TrackerRing, TrackerRingClient, TrackerRingClientOptions } from './tracker-ring-client.js';
export { createTrackerRingClient } from './tracker-ring-client.js';
export type { TrackerRingConfig } from './tracker-ring-config.js';
export { trackerRingSchema } from './tracker-ring-config.js';
export type {
  PeerConn,
  PeerConnOptions,
  PeerConnEvent,
  PeerConnDirection,
  PeerConnState,
  LocalPeer,
  OutgoingMessage,
  IncomingMessage,
  ConnClock,
  ConnLogger,
} from './peer-conn.js';
export { createPeerConn } from './peer-conn.js';
export type { ConnManager, ConnManagerOptions, DialTarget, Dialer } from './conn-manager.js';
export { createConnManager } from './conn-manager.js';
export type { ConnectionConfig } from './conn-config.js';
export { connectionSchema } from './conn-config.js';
export type { ConnectionErrorCode } from './conn-errors.js';
export { ConnectionError } from './conn-errors.js';
export type { PiecePicker, PiecePickerOptions, PieceRequest } from './piece-picker.js';
export { createPiecePicker } from './piece-picker.js';
export type { SuperSeed, SuperSeedOptions } from './super-seed.js';
export { createSuperSeed } from './super-seed.js';
export type { PeerBlacklist, PeerBlacklistOptions, BlacklistReason } from './peer-blacklist.js';
export { createPeerBlacklist } from './peer-blacklist.js';
export type { AnnounceTimers, AnnounceTimerOptions } from './reannounce-timers.js';
export { createAnnounceTimers } from './reannounce-timers.js';
export type { Scheduler, DownloadOptions, SeedOptions } from './scheduler.js';
export { createScheduler } from './scheduler.js';
export type {
  SchedulerOptions,
  SchedulerLimits,
  SchedulerLocalPeer,
  SchedulerAnnouncer,
  SchedulerTimers,
  SchedulerLogger,
  ConnManagerFactory,
} from './scheduler-options.js';
export {
  DEFAULT_SCHEDULER_LIMITS,
  systemSchedulerTimers,
  silentSchedulerLogger,
} from './scheduler-options.js';
export type { BlobStatus, PieceReader, SwarmBlobState } from './swarm-blob.js';
export { SwarmStoppedError } from './scheduler-errors.js';
export { schedulerLimitsSchema } from './scheduler-config.js';
export type { PeerConfig, PeerConfigDefaults } from './peer-config.js';
export { peerConfigSchema, peerConfigShape } from './peer-config.js';
export type { PeerNode, PeerNodeOptions } from './peer-node.js';
export { createPeerNode } from './peer-node.js';
export type {
  SwarmFetcher,
  SwarmFetcherOptions,
  FetchRequest,
  FetchStatus,
  FetchOutcome,
  FetchPath,
} from './swarm-fetcher.js';
export { createSwarmFetcher } from './swarm-fetcher.js';
export type { SwarmSeeder, SwarmSeederOptions } from './swarm-seeder.js';
export { createSwarmSeeder, firstPieceOf } from './swarm-seeder.js';
export type { RangeReader } from './piece-reader.js';
export { createPieceReader } from './piece-reader.js';
export type { ProgressiveStreamOptions } from './progressive-stream.js';
export { createProgressiveStream } from './progressive-stream.js';
export { ProgressiveStreamError } from './errors.js';
