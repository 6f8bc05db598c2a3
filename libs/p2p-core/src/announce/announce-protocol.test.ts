import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_BATCH_BLOBS,
  announceBatchRequestSchema,
  announceRequestSchema,
  parseAnnounceBatchRequest,
  parseAnnounceRequest,
} from './announce-protocol.js';

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

/** Batch entries: mostly good ones, some broken in one field, some repeating a blob. */
const goodBlobs = fc
  .integer({ min: 0, max: 1_000_000 })
  .map((i) => `sha256:${i.toString(16).padStart(64, '0')}`);
// A roll picks the kind of entry: fast-check's own choice leans to the odd cases.
const entries = fc
  .tuple(
    fc.integer({ min: 0, max: 99 }),
    goodBlobs,
    fc.boolean(),
    fc.oneof(fc.constantFrom(0, 50, 1000, 1001, -1, 1.5, '3'), anyValue),
    fc.oneof(
      fc.record({ blob: blobs, complete: fc.boolean() }),
      fc.record({ blob: blobs, complete: anyValue, extra: anyValue }, { requiredKeys: [] }),
      anyValue,
    ),
  )
  .map(([roll, blob, complete, want, odd]) =>
    roll < 70 ? { blob, complete } : roll < 90 ? { blob, complete, want } : odd,
  );

const batches = fc
  .record({
    identity: fc.oneof({ weight: 2, arbitrary: fc.constant(valid) }, { weight: 1, arbitrary: nearlyGood }),
    blobs: fc.oneof(
      {
        weight: 10,
        arbitrary: fc.uniqueArray(entries, {
          maxLength: 5,
          selector: (e) => (typeof e === 'object' && e !== null && 'blob' in e ? e.blob : e),
        }),
      },
      { weight: 2, arbitrary: fc.array(entries, { maxLength: 5 }) },
      { weight: 1, arbitrary: anyValue },
    ),
  })
  .map(({ identity, blobs }) => {
    if (typeof identity !== 'object' || identity === null) return identity;
    const { blob: _blob, complete: _complete, ...rest } = identity as Record<string, unknown>;
    return JSON.parse(JSON.stringify({ ...rest, blobs })) as unknown;
  });

describe('parseAnnounceBatchRequest', () => {
  const entry = { blob: valid.blob, complete: false };
  const { blob: _blob, complete: _complete, ...identity } = valid;

  it('accepts a well-formed batch, keeping each entry as sent', () => {
    const other = { blob: `sha256:${'c'.repeat(64)}`, complete: true, want: 0 };
    expect(parseAnnounceBatchRequest({ ...identity, blobs: [entry, other] })).toEqual({
      success: true,
      data: { ...identity, origin: false, blobs: [entry, other] },
    });
  });

  it('refuses a blob named twice, empty batches and batches over the limit', () => {
    const twice = parseAnnounceBatchRequest({ ...identity, blobs: [entry, { ...entry, complete: true }] });
    expect(twice.error?.issues[0]).toMatchObject({ path: ['blobs', 1, 'blob'], message: 'is a duplicate' });
    expect(parseAnnounceBatchRequest({ ...identity, blobs: [] }).success).toBe(false);
    const many = Array.from({ length: MAX_BATCH_BLOBS + 1 }, (_, i) => ({
      blob: `sha256:${i.toString(16).padStart(64, '0')}`,
      complete: false,
    }));
    expect(parseAnnounceBatchRequest({ ...identity, blobs: many }).success).toBe(false);
    expect(parseAnnounceBatchRequest({ ...identity, blobs: many.slice(1) }).success).toBe(true);
  });

  it('gives the same verdict and the same batch as the schema, for any body', () => {
    let accepted = 0;
    fc.assert(
      fc.property(batches, (body) => {
        const fast = parseAnnounceBatchRequest(body);
        const schema = announceBatchRequestSchema.safeParse(body);
        expect(fast.success).toBe(schema.success);
        if (fast.success && schema.success) expect(fast.data).toEqual(schema.data);
        if (schema.success) accepted += 1;
      }),
      { numRuns: 5_000 },
    );
    expect(accepted).toBeGreaterThan(250);
    expect(accepted).toBeLessThan(4_500);
  });
});
