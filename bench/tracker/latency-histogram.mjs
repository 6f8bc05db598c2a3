// Latency histograms with logarithmic buckets: 32 per doubling, so a percentile read from a
// bucket's upper edge is at most 2.2% above the true value. Fixed size (1,024 counters cover up to
// 4 hours in microseconds), cheap to record into on the hot path, and mergeable: the load
// generator sends one per second, sparse, and the bench adds them up per phase.

const PER_DOUBLING = 32;
export const BUCKETS = 1024;

/** The bucket of a latency in microseconds. */
export function bucketOf(us) {
  if (!(us > 0)) return 0;
  return Math.min(BUCKETS - 1, Math.floor(Math.log2(1 + us) * PER_DOUBLING));
}

/** The largest latency (µs) a bucket holds. */
export function bucketUpperUs(bucket) {
  return 2 ** ((bucket + 1) / PER_DOUBLING) - 1;
}

export function createHistogram() {
  return { counts: new Float64Array(BUCKETS), total: 0, maxUs: 0 };
}

export function record(histogram, us) {
  histogram.counts[bucketOf(us)] += 1;
  histogram.total += 1;
  if (us > histogram.maxUs) histogram.maxUs = us;
}

/** [[bucket, count], ...] of the non-empty buckets, with the total and max: what goes over IPC. */
export function toSparse(histogram) {
  const buckets = [];
  for (let b = 0; b < BUCKETS; b++) if (histogram.counts[b] > 0) buckets.push([b, histogram.counts[b]]);
  return { buckets, total: histogram.total, maxUs: histogram.maxUs };
}

export function addSparse(histogram, sparse) {
  for (const [b, n] of sparse.buckets) histogram.counts[b] += n;
  histogram.total += sparse.total;
  if (sparse.maxUs > histogram.maxUs) histogram.maxUs = sparse.maxUs;
}

/** The latency (ms) at quantile q by nearest rank, read at its bucket's upper edge (the max is exact). */
export function quantileMs(histogram, q) {
  if (histogram.total === 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * histogram.total));
  let seen = 0;
  for (let b = 0; b < BUCKETS; b++) {
    seen += histogram.counts[b];
    if (seen >= rank) return Math.min(bucketUpperUs(b), histogram.maxUs) / 1000;
  }
  return histogram.maxUs / 1000;
}

/** p50/p90/p99/p999/max in ms, rounded to µs. */
export function latencySummary(histogram) {
  const round = (ms) => (ms === undefined ? undefined : Math.round(ms * 1000) / 1000);
  return {
    count: histogram.total,
    p50: round(quantileMs(histogram, 0.5)),
    p90: round(quantileMs(histogram, 0.9)),
    p99: round(quantileMs(histogram, 0.99)),
    p999: round(quantileMs(histogram, 0.999)),
    max: round(histogram.total === 0 ? undefined : histogram.maxUs / 1000),
  };
}
