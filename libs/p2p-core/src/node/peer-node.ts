/**
 * A peer as an app runs it: the scheduler over a connection manager, a piece store and
 * bandwidth limiters, all built from the `p2p` config block, with the admission (TLS or
 * the cluster token) that keeps peers of other clusters out. Agents and origins both
 * compose one; the difference is that an origin announces itself as one.
 */
import type { Clock } from '@kraken/foundation';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Metrics } from '@kraken/service-kit';
import { createBandwidthLimiters } from '../conn/bandwidth-config.js';
import { createConnManager } from '../conn/conn-manager.js';
import { createPeerAdmission } from '../conn/membership.js';
import type { FileSignature } from '../conn/reloading-files.js';
import { MAX_PIECE_LENGTH } from '../metainfo/piece-length.js';
import type { PeerConfig } from './peer-config.js';
import { createRefusalMetrics, registerPeerNodeMetrics } from './swarm-metrics.js';
import { createPieceStore, type PieceStore } from '../storage/piece-store.js';
import { createPieceBufferPool, type PieceBufferPool } from '../buffers/piece-buffer-pool.js';
import { createScheduler } from '../scheduler/scheduler.js';
import { type Scheduler } from '../scheduler/scheduler-interface.js';
import {
  silentSchedulerLogger,
  type SchedulerAnnouncer,
  type SchedulerLogger,
} from '../scheduler/scheduler-deps.js';

export interface PeerNodeOptions {
  readonly config: PeerConfig;
  readonly announcer: SchedulerAnnouncer;
  /** Origins announce themselves as such. */
  readonly origin?: boolean | undefined;
  /** 40 lowercase hex characters; random by default (a restart is a new peer). */
  readonly peerId?: string | undefined;
  readonly logger?: SchedulerLogger | undefined;
  readonly timers?: Clock | undefined;
  /**
   * Registers the `swarm_blobs` and `swarm_peers_connected` gauges and the
   * `p2p_handshake_refused_total` counter on it (swarm-metrics.ts).
   */
  readonly metrics?: Metrics | undefined;
  /** How a changed TLS or token file is noticed; a stat of each file by default. */
  readonly fileSignature?: FileSignature | undefined;
}

export interface PeerNode {
  readonly peerId: string;
  readonly clusterId: string;
  readonly scheduler: Scheduler;
  /** Partial downloads under `<dir>/partial` (a fetcher removes abandoned ones from it). */
  readonly pieceStore: PieceStore;
  /** The piece buffers of its data path, for a fetcher's live reads to share. */
  readonly buffers: PieceBufferPool;
  /** How peers prove their membership: `tls`, `token`, or `plain` (nothing but the cluster id). */
  readonly membership: 'tls' | 'token' | 'plain';
  /** Reads the TLS or token files (a ConfigError names a bad one), then accepts peers; resolves with the bound address. */
  start(): Promise<{ host: string; port: number }>;
  /** The bound address once started. */
  address(): { host: string; port: number } | undefined;
  /** Leaves every swarm, closes every connection and the bandwidth limiters; idempotent. */
  close(): Promise<void>;
}

export function createPeerNode(options: PeerNodeOptions): PeerNode {
  const { config } = options;
  const peerId = options.peerId ?? randomBytes(20).toString('hex');
  const logger = options.logger ?? silentSchedulerLogger;
  const bandwidth = createBandwidthLimiters(config.bandwidth);
  const buffers = createPieceBufferPool({ maxPooledBytes: config.bufferPoolBytes });
  const pieceStore = createPieceStore({
    dir: join(config.dir, 'partial'),
    buffers,
    recentPieceBytes: config.recentPieceBytes,
    syncIntervalMs: config.syncIntervalMs,
    ...(options.timers === undefined ? {} : { clock: options.timers }),
  });
  const admission = createPeerAdmission(config, {
    handshakeTimeoutMs: config.connections.handshakeTimeoutMs,
    logger,
    signature: options.fileSignature,
  });
  const onRefused = createRefusalMetrics(options.metrics);
  const scheduler = createScheduler({
    local: {
      clusterId: config.clusterId,
      peerId,
      host: config.advertiseHost,
      port: config.listen.port,
      origin: options.origin ?? false,
    },
    connections: ({ onEvent, handshakeBlobs }) =>
      createConnManager({
        local: { clusterId: config.clusterId, peerId },
        onEvent,
        handshakeBlobs,
        config: config.connections,
        maxPieceLength: MAX_PIECE_LENGTH,
        buffers,
        egress: bandwidth.egress,
        ingress: bandwidth.ingress,
        admission,
        onRefused,
        logger,
      }),
    pieceStore,
    announcer: options.announcer,
    limits: config.scheduler,
    buffers,
    logger,
    ...(options.timers === undefined ? {} : { timers: options.timers }),
  });
  registerPeerNodeMetrics(options.metrics, scheduler);
  let bound: { host: string; port: number } | undefined;
  let closing: Promise<void> | undefined;

  return {
    peerId,
    clusterId: config.clusterId,
    scheduler,
    pieceStore,
    buffers,
    membership: admission?.mode ?? 'plain',
    async start() {
      await admission?.load();
      if (config.tls !== undefined && config.clusterTokenFile !== undefined)
        logger.info({}, 'p2p.clusterTokenFile is ignored: peers prove their membership by TLS');
      bound = await scheduler.listen({ host: config.listen.host, port: config.listen.port });
      return bound;
    },
    address: () => bound,
    close() {
      closing ??= scheduler.close().finally(() => bandwidth.close());
      return closing;
    },
  };
}
