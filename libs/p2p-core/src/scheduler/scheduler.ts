/**
 * The swarm scheduler: the one place that owns the swarm state of every blob a peer
 * downloads or seeds. It is a single writer: connection events, timer ticks and the
 * results of I/O (disk reads and writes, announces, dials) are applied synchronously
 * in handlers, and I/O is started from there and posts its result back as a new
 * handler call. No handler awaits, so no invariant is ever held broken across I/O;
 * a result that comes back for a blob or peer that left meanwhile is dropped.
 */
import { systemClock } from '@kraken/foundation';
import { createBitfield, type Bitfield } from '../storage/bitfield.js';
import { metainfoId, toMetainfo, type Metainfo } from '../metainfo/metainfo.js';
import type { Scheduler } from './scheduler-interface.js';
import type { PeerConn, PeerConnEvent } from '../conn/peer-conn.js';
import { createPeerBlacklist } from './policy/peer-blacklist.js';
import { createPiecePicker } from './policy/rarest-first-policy.js';
import type { PartialBlob } from '../storage/partial-blob.js';
import { SwarmStoppedError } from './scheduler-errors.js';
import { createBlobSuperSeed } from './origin-super-seeding.js';
import { createSwarmUploads } from './swarm-uploads.js';
import { createSwarmDownloads } from './swarm-downloads.js';
import { createSwarmAnnouncer } from './announcer.js';
import { createSwarmMessageHandler } from './message-dispatch.js';
import { createSwarmSweep } from './swarm-sweep.js';
import { createSwarmMembership } from './swarm-membership.js';
import { createSwarmPieceWaiters } from './swarm-piece-waiters.js';
import { InvalidPieceIndexError, PartialBlobClosedError } from '../errors.js';
import type { PieceReader } from '../storage/piece-reader.js';
import { silentSchedulerLogger, type SchedulerOptions } from './scheduler-deps.js';
import { DEFAULT_SCHEDULER_LIMITS } from './scheduler-limits.js';
import { blobStatus, createSwarmBlob, waitFor, type SwarmBlob } from './swarm-blob.js';
import { outstandingRequestsFor } from './request-budget.js';

import { handshakeLists } from './handshake-lists.js';
export type { DownloadOptions, SeedOptions, Scheduler } from './scheduler-interface.js';

export function createScheduler(options: SchedulerOptions): Scheduler {
  const limits = { ...DEFAULT_SCHEDULER_LIMITS, ...options.limits };
  const timers = options.timers ?? systemClock;
  const random = options.random ?? Math.random;
  const logger = options.logger ?? silentSchedulerLogger;
  const local = { ...options.local };
  const blobs = new Map<string, SwarmBlob>();
  const byDigest = new Map<string, string>();
  /** Connections above their high-water mark: uploads wait for 'drain'. */
  const blocked = new Set<PeerConn>();
  /** Open connections that carry no blob, since when. */
  const idleSince = new Map<PeerConn, number>();
  const blacklist = createPeerBlacklist({ now: () => timers.now() });
  const { attach, detach, forEachPeerOf, sendBitfield } = createSwarmMembership({
    blobs,
    idleSince,
    blacklist,
    now: () => timers.now(),
  });
  const manager = options.connections({
    onEvent: handle,
    handshakeBlobs: () => handshakeLists(blobs.values()),
  });
  const swarmAnnouncer = createSwarmAnnouncer({
    local,
    announcer: options.announcer,
    blobs,
    manager,
    blacklist,
    attach,
    isClosed: () => closed,
    intervalMs: limits.announceIntervalMs,
    maxPeersPerBlob: limits.maxPeersPerBlob,
    timers,
    random,
    logger,
  });
  const pieceWaiters = createSwarmPieceWaiters();
  const downloads = createSwarmDownloads({
    now: () => timers.now(),
    isCurrent: (blob) => blobs.get(blob.id) === blob,
    isOrigin: (peerId) => swarmAnnouncer.isOrigin(peerId),
    blacklist,
    detach,
    connectMore: (blob) => swarmAnnouncer.connectMore(blob),
    onCompleted,
    onPieceStored: (blob) => pieceWaiters.release(blob),
    finish,
    buffers: options.buffers,
    logger,
  });
  const uploads = createSwarmUploads({
    uploadQueueLength: limits.uploadQueueLength,
    blocked,
    isCurrent: (blob) => blobs.get(blob.id) === blob,
    buffers: options.buffers,
    logger,
  });
  const onMessage = createSwarmMessageHandler({
    blobs,
    blacklist,
    attach,
    detach,
    downloads,
    uploads,
    now: () => timers.now(),
    logger,
  });
  const sweep = createSwarmSweep({
    blobs,
    idleSince,
    blacklist,
    detach,
    fillAll: (blob) => downloads.fillAll(blob),
    connectMore: (blob) => swarmAnnouncer.connectMore(blob),
    limits,
    now: () => timers.now(),
    logger,
  });
  /** Partial blobs still closing (their last writes landing). */
  const closingPartials = new Set<Promise<void>>();
  /** Partial blobs being opened; one opened after its download stopped is closed at once. */
  const openingPartials = new Set<Promise<void>>();
  let closed = false;
  let closing: Promise<void> | undefined;
  let tickHandle = timers.setTimeout(tick, limits.tickMs);

  // ---- connection events ------------------------------------------------------

  function handle(event: PeerConnEvent): void {
    const { conn } = event;
    switch (event.type) {
      case 'open': {
        idleSince.set(conn, timers.now());
        for (const id of [...event.handshake.offered, ...event.handshake.wanted]) {
          const blob = blobs.get(id);
          if (blob !== undefined) attach(blob, conn);
        }
        return;
      }
      case 'message':
        onMessage(conn, event.message);
        return;
      case 'drain':
        blocked.delete(conn);
        forEachPeerOf(conn, uploads.pump);
        return;
      case 'close': {
        blocked.delete(conn);
        idleSince.delete(conn);
        const touched: SwarmBlob[] = [];
        forEachPeerOf(conn, (blob, peer) => {
          detach(blob, peer.peerId);
          touched.push(blob);
        });
        // Its outstanding requests went back to the picker: hand them to the others.
        for (const blob of touched) {
          downloads.fillAll(blob);
          swarmAnnouncer.connectMore(blob);
        }
        return;
      }
    }
  }

  function onCompleted(blob: SwarmBlob): void {
    if (blobs.get(blob.id) !== blob) return;
    blob.partial = undefined;
    blob.picker = undefined;
    for (const waiter of blob.waiters) waiter.resolve();
    blob.waiters.clear();
    logger.info({ blob: blob.metainfo.digest, ...blobStatus(blob) }, 'swarm download complete');
    if (blob.readAfterComplete === undefined || limits.seedAfterCompleteMs <= 0) {
      remove(blob);
      return;
    }
    blob.state = 'seeding';
    blob.readPiece = blob.readAfterComplete;
    for (const peer of blob.peers.values()) peer.conn.send({ type: 'complete', blobId: blob.id });
    blob.stopTimer = timers.setTimeout(() => {
      if (blobs.get(blob.id) === blob) remove(blob);
    }, limits.seedAfterCompleteMs);
    swarmAnnouncer.announceNow(blob.id);
  }

  function finish(blob: SwarmBlob, err: unknown): void {
    for (const waiter of blob.waiters) waiter.reject(err);
    blob.waiters.clear();
    remove(blob);
  }

  function remove(blob: SwarmBlob): void {
    if (blobs.get(blob.id) !== blob) return;
    blobs.delete(blob.id);
    if (byDigest.get(blob.metainfo.digest) === blob.id) byDigest.delete(blob.metainfo.digest);
    pieceWaiters.rejectAll(blob, new SwarmStoppedError(blob.metainfo.digest, 'stopped'));
    swarmAnnouncer.cancel(blob.id);
    if (blob.stopTimer !== undefined) timers.clearTimeout(blob.stopTimer);
    for (const peer of [...blob.peers.values()]) {
      uploads.abandon(blob, peer);
      detach(blob, peer.peerId);
    }
    const partial = blob.partial;
    blob.partial = undefined;
    blob.picker = undefined;
    // Verified pieces stay on disk, so a later download resumes from them.
    if (partial !== undefined) closePartial(partial);
    closeReader(blob.readPiece);
    if (blob.readAfterComplete !== blob.readPiece) closeReader(blob.readAfterComplete);
  }

  /** A reader the blob no longer uses lets go of its open file. */
  function closeReader(reader: PieceReader | undefined): void {
    reader?.close?.().catch((err: unknown) => logger.debug({ err }, 'closing a piece reader failed'));
  }

  function closePartial(partial: PartialBlob): void {
    const done = partial
      .close()
      .catch((err: unknown) =>
        logger.warn({ blob: partial.digest.value, err }, 'closing a partial blob failed'),
      )
      .finally(() => closingPartials.delete(done));
    closingPartials.add(done);
  }

  function tick(): void {
    if (closed) return;
    sweep();
    tickHandle = timers.setTimeout(tick, limits.tickMs);
  }

  // ---- public API --------------------------------------------------------------

  function newBlob(metainfo: Metainfo, id: string, have: Bitfield): SwarmBlob {
    const blob = createSwarmBlob(metainfo, id, have);
    blobs.set(id, blob);
    byDigest.set(metainfo.digest, id);
    return blob;
  }

  function onOpened(blob: SwarmBlob, partial: PartialBlob): void {
    if (blobs.get(blob.id) !== blob) {
      closePartial(partial);
      return;
    }
    blob.partial = partial;
    blob.have = partial.bitfield();
    pieceWaiters.release(blob);
    blob.picker = createPiecePicker({
      pieceCount: blob.metainfo.pieceHashes.length,
      have: blob.have,
      pipelineDepth: limits.pipelineDepth,
      maxOutstanding: outstandingRequestsFor(blob.metainfo.pieceLength, limits),
      requestTimeoutMs: limits.requestTimeoutMs,
      now: () => timers.now(),
      random,
      isOrigin: (peerId) => swarmAnnouncer.isOrigin(peerId),
      urgent: () => pieceWaiters.waited(blob),
      readAhead: limits.readAheadPieces,
    });
    // Peers that joined while the partial blob opened learn our resumed pieces.
    for (const peer of blob.peers.values()) {
      sendBitfield(blob, peer);
      if (peer.pieces !== undefined) blob.picker.addPeer(peer.peerId, peer.pieces);
    }
    downloads.fillAll(blob);
    swarmAnnouncer.announceNow(blob.id);
    downloads.maybeComplete(blob);
  }

  function lookup(key: string): SwarmBlob | undefined {
    return blobs.get(key) ?? blobs.get(byDigest.get(key) ?? '');
  }

  return {
    async listen(listenOptions) {
      const bound = await manager.listen(listenOptions);
      if (options.local.port === 0) local.port = bound.port;
      return bound;
    },

    download(input, downloadOptions) {
      let metainfo: Metainfo;
      try {
        metainfo = toMetainfo(input);
      } catch (err) {
        return Promise.reject(err);
      }
      const id = metainfoId(metainfo);
      if (closed) return Promise.reject(new SwarmStoppedError(metainfo.digest, 'closed'));
      let blob = blobs.get(id);
      if (blob?.state === 'seeding') return Promise.resolve();
      if (blob === undefined) {
        const created = newBlob(metainfo, id, createBitfield(metainfo.pieceHashes.length));
        created.adopter = downloadOptions.adopter;
        const opening = options.pieceStore
          .open(metainfo)
          .then(
            (partial) => onOpened(created, partial),
            (err: unknown) => finish(created, err),
          )
          .finally(() => openingPartials.delete(opening));
        openingPartials.add(opening);
        blob = created;
      }
      if (blob.readAfterComplete === undefined) blob.readAfterComplete = downloadOptions.readPiece;
      const joined = blob;
      return waitFor(joined, downloadOptions.signal, () => {
        // Nobody waits any more: stop, keeping the verified pieces for a resume.
        if (joined.state === 'downloading') remove(joined);
      });
    },

    seed(input, seedOptions) {
      const metainfo = toMetainfo(input);
      const id = metainfoId(metainfo);
      if (closed || seedOptions.signal?.aborted === true) return;
      let blob = blobs.get(id);
      if (blob !== undefined && blob.state !== 'seeding') {
        // A download in flight seeds from the adopted blob once it completes.
        if (blob.readAfterComplete !== seedOptions.readPiece) closeReader(blob.readAfterComplete);
        blob.readAfterComplete = seedOptions.readPiece;
        return;
      }
      if (blob === undefined) {
        const have = createBitfield(metainfo.pieceHashes.length);
        for (let i = 0; i < metainfo.pieceHashes.length; i++) have.set(i);
        blob = newBlob(metainfo, id, have);
        blob.state = 'seeding';
        if (options.local.origin === true) blob.superSeed = createBlobSuperSeed(blob, seedOptions.firstPiece);
        swarmAnnouncer.announceNow(id);
      }
      if (blob.readPiece !== seedOptions.readPiece) closeReader(blob.readPiece);
      blob.readPiece = seedOptions.readPiece;
      if (blob.stopTimer !== undefined) {
        timers.clearTimeout(blob.stopTimer);
        blob.stopTimer = undefined;
      }
      const seeded = blob;
      seedOptions.signal?.addEventListener('abort', () => remove(seeded), { once: true });
    },

    async readPiece(key, index, readOptions = {}) {
      const { signal, into } = readOptions;
      for (;;) {
        signal?.throwIfAborted();
        const blob = lookup(key);
        if (blob === undefined) throw new SwarmStoppedError(key, 'stopped');
        const count = blob.metainfo.pieceHashes.length;
        if (!Number.isInteger(index) || index < 0 || index >= count) {
          throw new InvalidPieceIndexError(index, count);
        }
        if (blob.state === 'seeding' && blob.readPiece !== undefined) return blob.readPiece(index, into);
        if (blob.have.has(index) && blob.partial !== undefined) {
          try {
            return await blob.partial.readPiece(index, into);
          } catch (err) {
            // Closed as its completion ends: read again once the blob seeds from its new home.
            if (!(err instanceof PartialBlobClosedError) || blob.state !== 'completing') throw err;
          }
        }
        if (blob.have.has(index)) {
          // Completing: the file is being verified and adopted; ask again shortly.
          await new Promise((resolve) => timers.setTimeout(() => resolve(undefined), 50));
          continue;
        }
        await pieceWaiters.wait(blob, index, signal);
      }
    },

    stop(key) {
      const blob = lookup(key);
      if (blob === undefined) return false;
      finish(blob, new SwarmStoppedError(blob.metainfo.digest, 'stopped'));
      return true;
    },

    status(key) {
      const blob = lookup(key);
      return blob === undefined ? undefined : blobStatus(blob);
    },

    list() {
      return [...blobs.values()].map(blobStatus);
    },

    close() {
      if (closing !== undefined) return closing;
      closed = true;
      timers.clearTimeout(tickHandle);
      swarmAnnouncer.close();
      for (const blob of [...blobs.values()])
        finish(blob, new SwarmStoppedError(blob.metainfo.digest, 'closed'));
      // Partial blobs are closed before this resolves, so a restart resumes from them.
      closing = Promise.all([
        manager.close(),
        Promise.allSettled([...openingPartials]).then(() => Promise.all([...closingPartials])),
      ]).then(() => undefined);
      return closing;
    },
  };
}
