import type { Clock } from '@kraken/foundation';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestOf } from '@kraken/oci-content';
import type { AnnouncedPeer } from '../announce/announce-protocol.js';
import { createBitfield } from '../storage/bitfield.js';
import type { ConnManager, DialTarget } from '../conn/conn-manager.js';
import { metainfoId, toMetainfo } from '../metainfo/metainfo.js';
import { createPeerBlacklist } from './policy/peer-blacklist.js';
import type { PeerConn } from '../conn/peer-conn.js';
import { MIN_PIECE_LENGTH } from '../metainfo/piece-length.js';
import { silentSchedulerLogger } from './scheduler-deps.js';
import { createSwarmBlob, type SwarmBlob } from './swarm-blob.js';
import { createSwarmAnnouncer, DIAL_BACKOFF_MAX_MS, DIAL_BACKOFF_MIN_MS } from './announcer.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const peerId = (n: number) => n.toString(16).padStart(40, '0');

function setup(dialResult: () => Promise<PeerConn>) {
  let now = 0;
  const timers: Clock = {
    now: () => now,
    setTimeout: () => undefined,
    clearTimeout: () => {},
  };
  const dials: DialTarget[] = [];
  const manager = {
    dial: (target: DialTarget) => {
      dials.push(target);
      return dialResult();
    },
    get: () => undefined,
  } as unknown as ConnManager;
  const metainfo = toMetainfo({
    digest: digestOf('blob').value,
    size: MIN_PIECE_LENGTH * 2,
    pieceLength: MIN_PIECE_LENGTH,
    pieceHashes: [sha('0'), sha('1')],
  });
  const blob = createSwarmBlob(metainfo, metainfoId(metainfo), createBitfield(2));
  const blobs = new Map<string, SwarmBlob>([[blob.id, blob]]);
  const swarmAnnouncer = createSwarmAnnouncer({
    local: { clusterId: 'test', peerId: peerId(1), host: '127.0.0.1', port: 1 },
    announcer: { announce: () => Promise.resolve({ peers: [] }) },
    blobs,
    manager,
    blacklist: createPeerBlacklist({ now: () => now }),
    attach: () => undefined,
    isClosed: () => false,
    intervalMs: 3000,
    maxPeersPerBlob: 16,
    timers,
    random: () => 0.5,
    logger: silentSchedulerLogger,
  });
  const stale: AnnouncedPeer = {
    peerId: peerId(2),
    host: '10.0.0.2',
    port: 16001,
    complete: false,
    origin: false,
  };
  blob.known.set(stale.peerId, stale);
  return { swarmAnnouncer, blob, dials, advance: (ms: number) => (now += ms) };
}

/** Lets the rejected dial's handler run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('swarm announcer dials', () => {
  it('backs off from a peer whose dial failed, doubling the wait up to a bound', async () => {
    const { swarmAnnouncer, blob, dials, advance } = setup(() =>
      Promise.reject(new Error('reached another peer')),
    );
    swarmAnnouncer.connectMore(blob);
    await settle();
    expect(dials).toHaveLength(1);
    // Connection events call connectMore often: none of them re-dials within the backoff.
    for (let i = 0; i < 10; i++) swarmAnnouncer.connectMore(blob);
    advance(DIAL_BACKOFF_MIN_MS - 1);
    swarmAnnouncer.connectMore(blob);
    expect(dials).toHaveLength(1);
    advance(1);
    swarmAnnouncer.connectMore(blob);
    await settle();
    expect(dials).toHaveLength(2);
    // The second failure waits twice as long.
    advance(DIAL_BACKOFF_MIN_MS);
    swarmAnnouncer.connectMore(blob);
    expect(dials).toHaveLength(2);
    advance(DIAL_BACKOFF_MIN_MS);
    swarmAnnouncer.connectMore(blob);
    await settle();
    expect(dials).toHaveLength(3);
    // However often it fails, it is tried again within the bound.
    for (let i = 0; i < 10; i++) {
      advance(DIAL_BACKOFF_MAX_MS);
      swarmAnnouncer.connectMore(blob);
      await settle();
    }
    expect(dials).toHaveLength(13);
  });

  it('dials a peer again at once after a successful connection', async () => {
    let fail = true;
    const conn = {} as PeerConn;
    const { swarmAnnouncer, blob, dials, advance } = setup(() =>
      fail ? Promise.reject(new Error('refused')) : Promise.resolve(conn),
    );
    swarmAnnouncer.connectMore(blob);
    await settle();
    fail = false;
    advance(DIAL_BACKOFF_MIN_MS);
    swarmAnnouncer.connectMore(blob);
    await settle();
    expect(dials).toHaveLength(2);
    // attach() kept nothing here, so the blob still lacks the peer: the next dial needs no wait.
    swarmAnnouncer.connectMore(blob);
    expect(dials).toHaveLength(3);
  });
});
