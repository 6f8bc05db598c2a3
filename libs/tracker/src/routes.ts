/**
 * The tracker's /v1/ API as a fastify plugin:
 *
 * - `POST /v1/announce`: records the peer in the blob's swarm and answers with a
 *   sample of the swarm's other peers (see peer-policy.ts) and when to
 *   announce again, in JSON or, when the client accepts it, in binary
 *   (@kraken/p2p-core, announce-binary.ts);
 * - `POST /v1/announce/batch`: the same for many blobs of one peer in one request, each
 *   blob's answer in the request's order; an entry may ask for fewer peers (`want`), and a
 *   seeder asks for none;
 * - `GET /v1/blobs/:digest/metainfo`: the blob's metainfo, fetched from the origins
 *   and cached (see metainfo-cache.ts), as canonical JSON.
 *
 * Errors are answered with the /v1/ error body of @kraken/service-kit.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { digestParamSchema, parseDigest } from '@kraken/oci-content';
import { InvalidRequestError, errorResponse, type Metrics } from '@kraken/service-kit';
import {
  ANNOUNCE_BATCH_BINARY_TYPE,
  ANNOUNCE_BINARY_TYPE,
  MAX_BATCH_BLOBS,
  acceptsBinaryAnswer,
  encodeAnnounceHeader,
  isUnspecifiedHost,
  parseAnnounceBatchRequest,
  parseAnnounceRequest,
  type ParsedAnnounceBatchRequest,
} from '@kraken/p2p-core';
import { MetainfoNotFoundError } from './errors.js';
import { createMetainfoCache, type MetainfoSource } from './metainfo-cache.js';
import { createOriginSeeds, type OriginSeedsOptions } from './origin-seeds.js';
import type { PeerPolicy } from './peer-policy.js';
import type { PeerEntry, PeerStore, PeerStoreStats, SwarmKey } from './peer-store.js';

export interface TrackerRoutesOptions {
  readonly store: PeerStore;
  readonly policy: PeerPolicy;
  readonly metainfo: MetainfoSource;
  readonly metrics: Metrics;
  /** Most peers per answer. */
  readonly peersPerAnnounce: number;
  readonly announceIntervalSeconds: number;
  /** Memory for cached metainfo JSON (default 64 MiB). */
  readonly metainfoCacheBytes?: number;
  /**
   * Asks a blob's origins to seed it when its swarm has none (see
   * origin-seeds.ts); without it only peers that announce are handed out.
   */
  readonly originSeeds?: Omit<OriginSeedsOptions, 'onSeeding' | 'onError' | 'onEmpty'>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
/** A binary handout of no peers: its count, 0. */
const NO_PEERS_BINARY = '\0\0';

/** An announce is a few hundred bytes; anything near this is not one. */
const MAX_ANNOUNCE_BODY_BYTES = 16 * 1024;
/**
 * Room for MAX_BATCH_BLOBS of the longest entries (a sha512 digest, `"complete":false`,
 * `"want":1000`: 177 bytes and a comma) and the peer.
 */
const MAX_BATCH_BODY_BYTES = MAX_BATCH_BLOBS * 192 + 1024;
const ANNOUNCE_ROUTES = new Set(['/v1/announce', '/v1/announce/batch']);

export const blobParamsSchema = z.object({ digest: digestParamSchema });

export function createTrackerRoutes(options: TrackerRoutesOptions): FastifyPluginAsync {
  const { store, policy, metrics, peersPerAnnounce, announceIntervalSeconds } = options;
  const announces = metrics.counter('announces_total', 'Announces received, by result.', ['result']);
  // Bound once: a labelled inc() hashes its labels on every call.
  const announcesOk = announces.labels({ result: 'ok' });
  const lookups = metrics.counter('metainfo_cache_lookups_total', 'Metainfo lookups, by cache result.', [
    'result',
  ]);
  const cache = createMetainfoCache({
    source: options.metainfo,
    maxBytes: options.metainfoCacheBytes ?? 64 * 1024 * 1024,
    onLookup: (result) => lookups.inc({ result }),
  });
  metrics.gauge('metainfo_cache_bytes', 'Bytes of metainfo JSON cached.', {
    collect: (gauge) => gauge.set(cache.bytes),
  });
  const seedRequests = metrics.counter(
    'origin_seed_requests_total',
    'Requests asking origins to seed a blob whose swarm had none, by result (ok, empty, error).',
    ['result'],
  );
  // stats() sweeps every swarm: once per scrape serves the three gauges.
  let scraped: PeerStoreStats | undefined;
  const stats = () => {
    if (scraped === undefined) {
      scraped = store.stats();
      setImmediate(() => (scraped = undefined));
    }
    return scraped;
  };
  metrics.gauge('swarms', 'Blobs with at least one live peer.', {
    collect: (gauge) => gauge.set(stats().blobs),
  });
  metrics.gauge('swarm_peers', 'Live peer entries over all swarms.', {
    collect: (gauge) => gauge.set(stats().peers),
  });
  metrics.gauge('swarm_peers_max', 'Peers in the largest swarm.', {
    collect: (gauge) => gauge.set(stats().largestSwarm),
  });

  return async function trackerRoutes(app: FastifyInstance) {
    const originSeeds =
      options.originSeeds === undefined
        ? undefined
        : createOriginSeeds({
            ...options.originSeeds,
            onSeeding: (key, origins) => {
              seedRequests.inc({ result: 'ok' });
              for (const origin of origins) store.announce(key, { ...origin, complete: true, origin: true });
            },
            onEmpty: () => seedRequests.inc({ result: 'empty' }),
            onError: (digest, err) => {
              seedRequests.inc({ result: 'error' });
              app.log.warn({ blob: digest.value, err }, 'asking the origins to seed a blob failed');
            },
          });

    app.setErrorHandler((err, request, reply) => {
      const { statusCode, body } = errorResponse(err);
      if (ANNOUNCE_ROUTES.has(request.routeOptions.url ?? '')) {
        announces.inc({ result: statusCode < 500 ? 'invalid' : 'error' });
      }
      if (statusCode >= 500) request.log.error({ err }, 'tracker request failed');
      return reply.code(statusCode).send(body);
    });

    // The binary answer's header as latin1 text, to join with the peers' records.
    const binaryHeader = encodeAnnounceHeader(announceIntervalSeconds).toString('latin1');
    // Every agent sends the same Accept header: its verdict is remembered, not parsed again.
    const rememberVerdict = (binaryType: string) => {
      let lastAccept: string | undefined;
      let lastVerdict = false;
      return (accept: string | undefined) => {
        if (accept !== lastAccept) {
          lastAccept = accept;
          lastVerdict = acceptsBinaryAnswer(accept, binaryType);
        }
        return lastVerdict;
      };
    };
    const wantsBinary = rememberVerdict(ANNOUNCE_BINARY_TYPE);
    const wantsBinaryBatch = rememberVerdict(ANNOUNCE_BATCH_BINARY_TYPE);

    /** Records the announce and answers it with a handout of the swarm's other peers. */
    const answer = (request: FastifyRequest, reply: FastifyReply, key: SwarmKey, self: PeerEntry) => {
      // Recorded first: the handout then knows the requester by its record, to leave it out.
      store.announce(key, self);
      const handout = { requester: self, limit: peersPerAnnounce, policy };
      announcesOk.inc();
      // The answer (an AnnounceResponse) as text: each peer's part of it was encoded once, when
      // the peer was first seen.
      if (wantsBinary(request.headers.accept)) {
        const records = store.handoutBinary(key, handout);
        return reply.type(ANNOUNCE_BINARY_TYPE).send(Buffer.from(binaryHeader + records, 'latin1'));
      }
      const peers = store.handoutJson(key, handout);
      return reply.type(JSON_TYPE).send(`{"peers":${peers},"intervalSeconds":${announceIntervalSeconds}}`);
    };

    // Not async: an announce whose swarm has an origin is answered without a promise.
    app.post('/v1/announce', { bodyLimit: MAX_ANNOUNCE_BODY_BYTES }, (request, reply) => {
      const parsed = parseAnnounceRequest(request.body);
      if (!parsed.success) throw invalid('invalid announce', parsed.error);
      const announce = parsed.data;
      const self: PeerEntry = {
        peerId: announce.peerId,
        host: isUnspecifiedHost(announce.address.host) ? sourceHost(request) : announce.address.host,
        port: announce.address.port,
        complete: announce.complete,
        origin: announce.origin,
      };
      const key: SwarmKey = { blob: announce.blob, clusterId: announce.clusterId };
      if (originSeeds !== undefined && !announce.origin && !store.hasOrigin(key)) {
        return originSeeds
          .ensure(parseDigest(announce.blob), announce.clusterId)
          .then(() => answer(request, reply, key, self));
      }
      return answer(request, reply, key, self);
    });

    /** Records every blob of the batch and answers each with its handout, in the batch's order. */
    const answerBatch = (request: FastifyRequest, reply: FastifyReply, batch: ParsedAnnounceBatchRequest) => {
      const host = isUnspecifiedHost(batch.address.host) ? sourceHost(request) : batch.address.host;
      const binary = wantsBinaryBatch(request.headers.accept);
      const format = binary ? store.handoutBinary : store.handoutJson;
      const parts = new Array<string>(batch.blobs.length);
      for (let i = 0; i < batch.blobs.length; i++) {
        const { blob, complete, want } = batch.blobs[i] as ParsedAnnounceBatchRequest['blobs'][number];
        const key: SwarmKey = { blob, clusterId: batch.clusterId };
        const self: PeerEntry = {
          peerId: batch.peerId,
          host,
          port: batch.address.port,
          complete,
          origin: batch.origin,
        };
        store.announce(key, self);
        const limit = Math.min(want ?? peersPerAnnounce, peersPerAnnounce);
        parts[i] =
          limit === 0 ? (binary ? NO_PEERS_BINARY : '[]') : format(key, { requester: self, limit, policy });
      }
      announcesOk.inc(batch.blobs.length);
      if (binary) {
        const count = String.fromCharCode(parts.length >> 8, parts.length & 0xff);
        return reply
          .type(ANNOUNCE_BATCH_BINARY_TYPE)
          .send(Buffer.from(binaryHeader + count + parts.join(''), 'latin1'));
      }
      return reply
        .type(JSON_TYPE)
        .send(
          `{"answers":[{"peers":${parts.join('},{"peers":')}}],"intervalSeconds":${announceIntervalSeconds}}`,
        );
    };

    app.post('/v1/announce/batch', { bodyLimit: MAX_BATCH_BODY_BYTES }, (request, reply) => {
      const parsed = parseAnnounceBatchRequest(request.body);
      if (!parsed.success) throw invalid('invalid batch announce', parsed.error);
      const batch = parsed.data;
      if (originSeeds !== undefined && !batch.origin) {
        // Blobs whose swarm has no origin yet ask the origins to seed them first, as one
        // announce does; the batch is answered when all of them are settled.
        const pending: Promise<void>[] = [];
        for (const { blob } of batch.blobs) {
          if (!store.hasOrigin({ blob, clusterId: batch.clusterId }))
            pending.push(originSeeds.ensure(parseDigest(blob), batch.clusterId));
        }
        if (pending.length > 0) return Promise.all(pending).then(() => answerBatch(request, reply, batch));
      }
      return answerBatch(request, reply, batch);
    });

    app.get('/v1/blobs/:digest/metainfo', async (request, reply) => {
      const { digest } = blobParamsSchema.parse(request.params);
      const cached = await cache.get(digest);
      if (cached === undefined) throw new MetainfoNotFoundError(digest.value);
      return reply
        .code(200)
        .header('content-type', 'application/json; charset=utf-8')
        .header('etag', `"${cached.id}"`)
        .send(cached.json);
    });
  };
}

/** The address the announce came from, without the IPv4-mapped IPv6 prefix. */
function sourceHost(request: FastifyRequest): string {
  const ip = request.ip;
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice('::ffff:'.length) : ip;
}

function invalid(what: string, error: z.ZodError): InvalidRequestError {
  const issue = error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? 'body' : issue.path.join('.');
  return new InvalidRequestError(`${what}: ${where} ${issue?.message ?? 'is invalid'}`, {
    issues: error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  });
}
