/**
 * Admission over real sockets: mutual TLS with the cluster CA and the cluster token
 * challenge let peers of the cluster in, and refuse others before any blob id crosses the
 * wire. Refused peers are checked by what they received, not only by the errors.
 */
import { createManualClock, type ManualClock } from '@kraken/foundation/testing';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestCa,
  issueTestCertificate,
  type TestCa,
  type TestCertificate,
} from '../testing/test-certificates.js';
import { encodeMessage } from '../wire/frame-encoder.js';
import { CHALLENGE_FRAME_BYTES, PROOF_FRAME_BYTES } from '../wire/membership-frames.js';
import { createTokenChallenge } from './cluster-token-challenge.js';
import {
  createConnManager,
  type ConnManager,
  type ConnManagerOptions,
  type PeerRefusal,
} from './conn-manager.js';
import type { MembershipConfig } from './membership-config.js';
import { createPeerAdmission } from './membership.js';
import type { PeerConnEvent } from './peer-conn.js';
import { P2P_SERVER_NAME } from './tls-admission.js';

const BLOB = 'c'.repeat(64);
const HANDSHAKE_TIMEOUT_MS = 5_000;

let dir: string;
let cluster: TestCa;
let other: TestCa;
let certs: Record<'a' | 'b' | 'rogue', TestCertificate>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kraken-admission-'));
  cluster = await createTestCa(dir, 'cluster');
  other = await createTestCa(dir, 'other');
  certs = {
    a: await issueTestCertificate(cluster, 'a'),
    b: await issueTestCertificate(cluster, 'b'),
    rogue: await issueTestCertificate(other, 'rogue'),
  };
}, 30_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Peer {
  readonly id: string;
  readonly manager: ConnManager;
  readonly events: PeerConnEvent[];
  readonly refusals: PeerRefusal[];
  port: number;
}

const peers: Peer[] = [];
const sockets: net.Socket[] = [];
const servers: net.Server[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(peers.splice(0).map((peer) => peer.manager.close()));
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function peer(
  id: string,
  membership: MembershipConfig,
  options: Partial<ConnManagerOptions> & { listen?: boolean } = {},
): Promise<Peer> {
  const events: PeerConnEvent[] = [];
  const refusals: PeerRefusal[] = [];
  const admission = createPeerAdmission(membership, { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS });
  await admission?.load();
  const manager = createConnManager({
    local: { clusterId: 'test', peerId: id.repeat(40) },
    onEvent: (event) => events.push(event),
    onRefused: (refusal) => refusals.push(refusal),
    config: { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS },
    admission,
    ...options,
  });
  const created: Peer = { id: id.repeat(40), manager, events, refusals, port: 0 };
  peers.push(created);
  if (options.listen ?? true) created.port = (await manager.listen({ host: '127.0.0.1', port: 0 })).port;
  return created;
}

const tlsOf = (cert: TestCertificate, ca: TestCa = cluster): MembershipConfig => ({
  tls: { ...cert, caFile: ca.caFile },
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

/** Everything `socket` receives until it closes. */
function received(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {});
  return new Promise((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks))));
}

const offering = { handshakeBlobs: () => ({ offered: [BLOB], wanted: [] }) };

describe('mutual TLS with the cluster CA', () => {
  it('lets peers of the cluster in, and they trade messages', async () => {
    const a = await peer('a', tlsOf(certs.a));
    const b = await peer('b', tlsOf(certs.b), offering);
    const conn = await a.manager.dial({ host: '127.0.0.1', port: b.port, peerId: b.id });
    expect(conn.remote?.offered).toEqual([BLOB]);
    conn.send({ type: 'have', blobId: BLOB, index: 3 });
    await until(() => b.events.some((e) => e.type === 'message'));
    expect(b.events.map((e) => e.type)).toEqual(['open', 'message']);
    expect([...a.refusals, ...b.refusals]).toEqual([]);
  });

  it('refuses a client whose certificate another CA issued: it receives no byte of the session', async () => {
    const b = await peer('b', tlsOf(certs.b), offering);
    // It trusts the cluster CA, so only b's check of its certificate can stop it.
    const rogue = tls.connect({
      host: '127.0.0.1',
      port: b.port,
      ...(await readPem(certs.rogue)),
      ca: await readFileText(cluster.caFile),
      servername: P2P_SERVER_NAME,
      checkServerIdentity: () => undefined,
    });
    rogue.on('secureConnect', () => {
      rogue.write(wantBlobHandshake('d'));
    });
    const got = await received(rogue);
    expect(got.length).toBe(0);
    await until(() => b.refusals.length === 1);
    expect(b.refusals).toEqual([{ reason: 'tls', direction: 'inbound' }]);
    expect(b.events).toEqual([]);
  });

  it('refuses a peer node with such a certificate, which never sees our handshake', async () => {
    const b = await peer('b', tlsOf(certs.b), offering);
    const rogue = await peer('d', tlsOf(certs.rogue, cluster), { listen: false });
    await expect(rogue.manager.dial({ host: '127.0.0.1', port: b.port })).rejects.toMatchObject({
      name: 'ConnectionError',
    });
    await until(() => b.refusals.length === 1);
    expect(b.refusals).toEqual([{ reason: 'tls', direction: 'inbound' }]);
    expect(b.events).toEqual([]);
    expect(rogue.events).toEqual([]);
  });

  it('refuses to dial a server whose certificate another CA issued, and sends it nothing', async () => {
    const a = await peer('a', tlsOf(certs.a), { ...offering, listen: false });
    const got: Buffer[] = [];
    const rogueServer = tls.createServer({
      ...(await readPem(certs.rogue)),
      ca: await readFileText(cluster.caFile),
      requestCert: true,
      rejectUnauthorized: false,
    });
    rogueServer.on('secureConnection', (socket) => socket.on('data', (chunk: Buffer) => got.push(chunk)));
    rogueServer.on('tlsClientError', () => {});
    servers.push(rogueServer);
    const port = await listen(rogueServer);
    await expect(a.manager.dial({ host: '127.0.0.1', port })).rejects.toMatchObject({
      code: 'KRAKEN_P2P_PEER_REFUSED',
      detail: { reason: 'tls' },
    });
    expect(a.refusals).toEqual([{ reason: 'tls', direction: 'outbound' }]);
    expect(Buffer.concat(got).length).toBe(0);
  });

  it('refuses a client without a certificate', async () => {
    const b = await peer('b', tlsOf(certs.b), offering);
    const anonymous = tls.connect({
      host: '127.0.0.1',
      port: b.port,
      ca: await readFileText(cluster.caFile),
      checkServerIdentity: () => undefined,
    });
    expect((await received(anonymous)).length).toBe(0);
    await until(() => b.refusals.length === 1);
    expect(b.refusals).toEqual([{ reason: 'tls', direction: 'inbound' }]);
  });

  it('uses a replaced certificate file for the next connection, listening and dialing', async () => {
    const own = { a: await issueTestCertificate(cluster, 'a-rotating') };
    const a = await peer('a', tlsOf(own.a));
    const observer = await observingServer();
    const seen = async () => {
      // The certificate a presents as a server, then as a client.
      const client = tls.connect({
        host: '127.0.0.1',
        port: a.port,
        ...(await readPem(certs.b)),
        ca: await readFileText(cluster.caFile),
        servername: P2P_SERVER_NAME,
        checkServerIdentity: () => undefined,
      });
      sockets.push(client);
      await new Promise((resolve) => client.once('secureConnect', resolve));
      const asServer = client.getPeerCertificate().subject.CN;
      client.destroy();
      await a.manager.dial({ host: '127.0.0.1', port: observer.port }).catch(() => undefined);
      return { asServer, asClient: observer.clientNames.at(-1) };
    };
    expect(await seen()).toEqual({ asServer: 'a-rotating', asClient: 'a-rotating' });
    // A rotation renames new files over the old ones.
    await issueTestCertificate(cluster, 'a-renewed', { replace: own.a });
    expect(await seen()).toEqual({ asServer: 'a-renewed', asClient: 'a-renewed' });
  });

  it('trusts a replaced CA file from the next connection on', async () => {
    const caFile = join(dir, 'rotating-ca.crt');
    await writeFile(caFile, await readFileText(cluster.caFile));
    const b = await peer('b', { tls: { ...certs.b, caFile } });
    const connectRogue = async () => {
      const client = tls.connect({
        host: '127.0.0.1',
        port: b.port,
        ...(await readPem(certs.rogue)),
        ca: await readFileText(cluster.caFile),
        servername: P2P_SERVER_NAME,
        checkServerIdentity: () => undefined,
      });
      sockets.push(client);
      client.on('secureConnect', () => client.write(wantBlobHandshake('d')));
      return received(client);
    };
    expect((await connectRogue()).length).toBe(0);
    await until(() => b.refusals.length === 1);
    // The rotation: the other CA's certificate renamed over the CA file.
    const next = join(dir, 'rotating-ca.next');
    await writeFile(next, await readFileText(other.caFile));
    await rename(next, caFile);
    void connectRogue();
    await until(() => b.events.some((e) => e.type === 'open'));
    expect(b.refusals).toEqual([{ reason: 'tls', direction: 'inbound' }]);
  });

  it('refuses a dial whose TLS handshake does not finish within handshakeTimeoutMs', async () => {
    const clock = createManualClock();
    const a = await peer('a', tlsOf(certs.a), { clock, listen: false });
    const silent = net.createServer((socket) => sockets.push(socket));
    servers.push(silent);
    const port = await listen(silent);
    const accepted = new Promise((resolve) => silent.once('connection', resolve));
    const dialing = a.manager.dial({ host: '127.0.0.1', port });
    const outcome = dialing.catch((error: unknown) => error);
    await accepted;
    await settleIo(clock);
    expect(a.manager.size).toBe(1);
    await clock.advance(HANDSHAKE_TIMEOUT_MS);
    expect(await outcome).toMatchObject({ code: 'KRAKEN_P2P_PEER_REFUSED', detail: { reason: 'timeout' } });
    expect(a.refusals).toEqual([{ reason: 'timeout', direction: 'outbound' }]);
    expect(a.manager.size).toBe(0);
  });
});

describe('the cluster token challenge', () => {
  let tokenFile: string;
  const token = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  beforeAll(async () => {
    tokenFile = join(dir, 'cluster-token');
    await writeFile(tokenFile, `${token}\n`);
  });
  const withToken = (file = tokenFile): MembershipConfig => ({ clusterTokenFile: file });
  async function otherTokenFile(name: string, value: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, value);
    return file;
  }

  it('lets peers holding the token in; the token never crosses the wire', async () => {
    const tapped: Buffer[] = [];
    const a = await peer('a', withToken(), {
      listen: false,
      dial: ({ host, port }) => {
        const socket = net.connect({ host, port });
        socket.on('data', (chunk: Buffer) => tapped.push(chunk));
        return socket;
      },
    });
    const b = await peer('b', withToken(), offering);
    const conn = await a.manager.dial({ host: '127.0.0.1', port: b.port, peerId: b.id });
    expect(conn.remote?.offered).toEqual([BLOB]);
    conn.send({ type: 'complete', blobId: BLOB });
    await until(() => b.events.some((e) => e.type === 'message'));
    const wire = Buffer.concat(tapped);
    expect(wire.length).toBeGreaterThan(CHALLENGE_FRAME_BYTES + PROOF_FRAME_BYTES);
    expect(wire.includes(Buffer.from(token))).toBe(false);
    expect([...a.refusals, ...b.refusals]).toEqual([]);
  });

  it('refuses a client with a wrong token: it receives the challenge and nothing else', async () => {
    const b = await peer('b', withToken(), offering);
    const rogue = net.connect({ host: '127.0.0.1', port: b.port });
    const challenge = createTokenChallenge({
      token: Buffer.from('not-the-cluster-token-at-all-000'),
      clusterId: 'test',
      direction: 'outbound',
      nonce: randomBytes(32),
    });
    rogue.write(challenge.opening);
    rogue.on('data', (chunk: Buffer) => {
      const step = challenge.feed(chunk);
      // Whatever it concludes, it answers and then asks for the blob as if admitted.
      if (step.state !== 'refused' && step.send !== undefined) rogue.write(step.send);
      rogue.write(wantBlobHandshake('d'));
      rogue.write(encodeMessage({ type: 'request', blobId: BLOB, index: 0 })[0] as Buffer);
    });
    const got = await received(rogue);
    // The listener proves itself only to a dialer that did: the rogue got its nonce, no proof.
    expect(got.length).toBe(CHALLENGE_FRAME_BYTES);
    expect(got.includes(Buffer.from(BLOB, 'hex'))).toBe(false);
    await until(() => b.refusals.length === 1);
    expect(b.refusals).toEqual([{ reason: 'token', direction: 'inbound' }]);
    expect(b.events).toEqual([]);
  });

  it('refuses a peer node with a wrong token; neither side sees a handshake', async () => {
    const b = await peer('b', withToken(), offering);
    const rogueToken = await otherTokenFile('rogue-token', 'ffffffffffffffffffffffffffffffff');
    const rogue = await peer('d', withToken(rogueToken), { listen: false });
    await expect(rogue.manager.dial({ host: '127.0.0.1', port: b.port })).rejects.toMatchObject({
      name: 'ConnectionError',
    });
    await until(() => b.refusals.length === 1);
    expect(b.refusals).toEqual([{ reason: 'token', direction: 'inbound' }]);
    expect(rogue.refusals).toEqual([]);
    expect(b.events).toEqual([]);
    expect(rogue.events).toEqual([]);
  });

  it('refuses a peer without a token, and tells it why', async () => {
    const b = await peer('b', withToken(), offering);
    const plain = await peer('e', {}, { listen: false });
    await expect(plain.manager.dial({ host: '127.0.0.1', port: b.port })).rejects.toMatchObject({
      code: 'KRAKEN_P2P_HANDSHAKE_EXPECTED',
      message: expect.stringContaining('clusterTokenFile') as unknown,
    });
    await until(() => b.refusals.length === 1);
    expect(b.refusals).toEqual([{ reason: 'no-token', direction: 'inbound' }]);
    expect(b.events).toEqual([]);
  });

  it('closes a connection that does not answer the challenge within handshakeTimeoutMs', async () => {
    const clock = createManualClock();
    const b = await peer('b', withToken(), { ...offering, clock });
    const silent = net.connect({ host: '127.0.0.1', port: b.port });
    const got = received(silent);
    await until(() => b.manager.size === 1);
    await clock.advance(HANDSHAKE_TIMEOUT_MS);
    expect((await got).length).toBe(CHALLENGE_FRAME_BYTES);
    expect(b.refusals).toEqual([{ reason: 'timeout', direction: 'inbound' }]);
  });

  it('uses a replaced token file for the next connection', async () => {
    const rotating = await otherTokenFile('rotating-token', 'old-token-old-token-old-token-00');
    const b = await peer('b', withToken(rotating));
    const next = await otherTokenFile('next-token', 'new-token-new-token-new-token-00');
    const a = await peer('a', withToken(next), { listen: false });
    await expect(a.manager.dial({ host: '127.0.0.1', port: b.port })).rejects.toMatchObject({
      name: 'ConnectionError',
    });
    await until(() => b.refusals.length === 1);
    expect(b.refusals).toEqual([{ reason: 'token', direction: 'inbound' }]);
    await rename(await otherTokenFile('next-token.copy', 'new-token-new-token-new-token-00'), rotating);
    const conn = await a.manager.dial({ host: '127.0.0.1', port: b.port, peerId: b.id });
    expect(conn.state).toBe('open');
  });
});

/** A handshake from peer `id` that asks for BLOB, as an outsider would send it. */
function wantBlobHandshake(id: string): Buffer {
  return encodeMessage({
    type: 'handshake',
    version: 1,
    clusterId: 'test',
    peerId: id.repeat(40),
    offered: [],
    wanted: [BLOB],
  })[0] as Buffer;
}

function readFileText(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

async function readPem(cert: TestCertificate): Promise<{ cert: string; key: string }> {
  return { cert: await readFileText(cert.certFile), key: await readFileText(cert.keyFile) };
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
}

/** A TLS server of the cluster CA that records the CN of every client certificate. */
async function observingServer(): Promise<{ port: number; clientNames: string[] }> {
  const clientNames: string[] = [];
  const server = tls.createServer({
    ...(await readPem(certs.b)),
    ca: await readFileText(cluster.caFile),
    requestCert: true,
    rejectUnauthorized: true,
  });
  server.on('secureConnection', (socket) => {
    clientNames.push(String(socket.getPeerCertificate().subject.CN));
    socket.destroy();
  });
  server.on('tlsClientError', () => {});
  servers.push(server);
  return { port: await listen(server), clientNames };
}

/** Lets socket I/O under way settle without moving the manual clock. */
async function settleIo(clock: ManualClock): Promise<void> {
  await clock.advance(0);
  await new Promise((resolve) => setTimeout(resolve, 20));
}
