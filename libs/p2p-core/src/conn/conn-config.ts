/**
 * Limits and timers of P2P connections, one schema for the agent's and the origin's
 * config. Defaults suit a devcluster and a datacenter network alike.
 */
import { z } from 'zod';
import { DEFAULT_HIGH_WATER_MARK_BYTES } from './peer-conn.js';

export const connectionSchema = z
  .object({
    maxConnections: z
      .number()
      .int()
      .min(1)
      .default(200)
      .describe('Most P2P connections open at once (inbound, outbound and handshaking together).'),
    handshakeTimeoutMs: z
      .number()
      .int()
      .min(1)
      .default(10_000)
      .describe('Time a new connection has to connect and complete the handshake, in milliseconds.'),
    keepaliveIntervalMs: z
      .number()
      .int()
      .min(1)
      .default(30_000)
      .describe('A keepalive is sent after this long without sending anything, in milliseconds.'),
    idleTimeoutMs: z
      .number()
      .int()
      .min(1)
      .default(90_000)
      .describe(
        'A connection that receives nothing (not even a keepalive) for this long is closed, in milliseconds.',
      ),
    highWaterMarkBytes: z
      .number()
      .int()
      .min(1)
      .default(DEFAULT_HIGH_WATER_MARK_BYTES)
      .describe(
        'Bytes queued for sending on one connection past which send() asks the caller to wait for drain. ' +
          'Below one piece, so that a piece holds its upload slot until it is on the wire, and requests ' +
          'and HAVEs do not queue behind megabytes of pieces.',
      ),
  })
  .strict()
  .prefault({})
  .describe('P2P connection limits and timers.');

export type ConnectionConfig = z.output<typeof connectionSchema>;
