import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { announceRequestSchema, parseAnnounceRequest } from './announce-protocol.js';

const valid = {
  peerId: 'a'.repeat(40),
  address: { host: '10.0.0.1', port: 16001 },
  blob: `sha256:${'b'.repeat(64)}`,
  complete: false,
};

/** Values each field might take: good ones, and near misses of every kind. */
const anyValue = fc.oneof(
  fc.constantFrom(undefined, null, true, false, 0, -0, 1, 1.5, 65535, 65536, NaN, Infinity, '', 'x', [], {}),
  fc.string(),
  fc.integer(),
  fc.double(),
);
const peerIds = fc.oneof(
  fc.constantFrom('a'.repeat(40), 'A'.repeat(40), 'a'.repeat(39), 'g'.repeat(40)),
  anyValue,
);
const hosts = fc.oneof(
  fc.constantFrom(
    '10.0.0.1',
    '::1',
    'fd00::1',
    'FD00::1',
    'node-1.example',
    '[::1]',
    'fe80::1%eth0',
    '-bad',
    '0.0.0.0',
  ),
  anyValue,
);
const ports = fc.oneof(fc.constantFrom(1, 16001, 65535, 0, 65536, 1.5, '16001'), anyValue);
const blobs = fc.oneof(
  fc.constantFrom(
    `sha256:${'b'.repeat(64)}`,
    `sha512:${'c'.repeat(128)}`,
    `sha256:${'B'.repeat(64)}`,
    'sha256:x',
  ),
  anyValue,
);
const clusterIds = fc.oneof(fc.constantFrom('east', 'a.b-c_d', '-east', 'x'.repeat(64)), anyValue);

/** Announce-like bodies: each key present or not, with a good or a bad value, sometimes an extra key. */
const bodies = fc.oneof(
  anyValue,
  fc
    .record(
      {
        peerId: peerIds,
        clusterId: clusterIds,
        address: fc.oneof(
          fc.record({ host: hosts, port: ports }, { requiredKeys: [] }),
          fc.record({ host: hosts, port: ports, extra: anyValue }),
          anyValue,
        ),
        blob: blobs,
        complete: fc.oneof(fc.boolean(), anyValue),
        origin: fc.oneof(fc.boolean(), anyValue),
        extra: anyValue,
      },
      { requiredKeys: [] },
    )
    .map((body) => JSON.parse(JSON.stringify(body ?? null)) as unknown),
);

/** A good announce with a few of its fields (or its address's) changed, added or removed. */
const nearlyGood = fc
  .record({
    clusterId: fc.option(fc.constantFrom('east', 'a.b-c_d'), { nil: undefined }),
    origin: fc.option(fc.boolean(), { nil: undefined }),
    changes: fc.array(
      fc.tuple(
        fc.constantFrom(
          'peerId',
          'clusterId',
          'blob',
          'complete',
          'origin',
          'extra',
          'host',
          'port',
          'address',
        ),
        fc.oneof(peerIds, hosts, ports, blobs, clusterIds, fc.constant('drop')),
      ),
      { maxLength: 2 },
    ),
  })
  .map(({ clusterId, origin, changes }) => {
    const body: Record<string, unknown> = { ...valid, address: { ...valid.address } };
    if (clusterId !== undefined) body.clusterId = clusterId;
    if (origin !== undefined) body.origin = origin;
    for (const [key, value] of changes) {
      const address = body.address;
      const inAddress = key === 'host' || key === 'port';
      if (inAddress && (typeof address !== 'object' || address === null)) continue;
      const target = inAddress ? (address as Record<string, unknown>) : body;
      if (value === 'drop') delete target[key];
      else target[key] = value;
    }
    return JSON.parse(JSON.stringify(body)) as unknown;
  });

describe('parseAnnounceRequest', () => {
  it('accepts a well-formed announce, with origin false by default', () => {
    expect(parseAnnounceRequest(valid)).toEqual({ success: true, data: { ...valid, origin: false } });
    expect(parseAnnounceRequest({ ...valid, clusterId: 'east', origin: true })).toEqual({
      success: true,
      data: { ...valid, clusterId: 'east', origin: true },
    });
  });

  it('refuses what the schema refuses, with the schema error', () => {
    const result = parseAnnounceRequest({ ...valid, extra: 1 });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.code).toBe('unrecognized_keys');
  });

  it('gives the same verdict and the same announce as the schema, for any body', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(bodies, nearlyGood), (body) => {
        const fast = parseAnnounceRequest(body);
        const schema = announceRequestSchema.safeParse(body);
        expect(fast.success).toBe(schema.success);
        if (fast.success && schema.success) expect(fast.data).toEqual(schema.data);
        if (schema.success) accepted += 1;
      }),
      { numRuns: 5_000 },
    );
    // Both verdicts are well represented.
    expect(accepted).toBeGreaterThan(500);
    expect(accepted).toBeLessThan(4_500);
  });
});
