/**
 * Prometheus metrics per component: a private registry (so several components can
 * share one process in tests), default process metrics, and names prefixed
 * `kraken_<component>_`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly prefix: string;
  counter<L extends string = string>(name: string, help: string, labelNames?: readonly L[]): Counter<L>;
  /** `collect` runs at every scrape, for values read from elsewhere (cache sizes, queue depths). */
  gauge<L extends string = string>(
    name: string,
    help: string,
    options?: { labelNames?: readonly L[]; collect?: (gauge: Gauge<L>) => void },
  ): Gauge<L>;
  histogram<L extends string = string>(
    name: string,
    help: string,
    options?: { labelNames?: readonly L[]; buckets?: number[] },
  ): Histogram<L>;
}

export function createMetrics(component: string, options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  const prefix = `kraken_${component.replace(/-/g, '_')}_`;
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix });
    // Buffers' memory, a part of external memory that prom-client leaves out.
    new Gauge({
      name: `${prefix}nodejs_array_buffers_bytes`,
      help: 'Memory of ArrayBuffers and Buffers in bytes (process.memoryUsage().arrayBuffers).',
      registers: [registry],
      collect() {
        this.set(process.memoryUsage().arrayBuffers);
      },
    });
  }
  return {
    registry,
    prefix,
    counter(name, help, labelNames = []) {
      return new Counter({ name: prefix + name, help, labelNames, registers: [registry] });
    },
    gauge(name, help, opts = {}) {
      const collect = opts.collect;
      return new Gauge({
        name: prefix + name,
        help,
        labelNames: opts.labelNames ?? [],
        registers: [registry],
        ...(collect === undefined
          ? {}
          : {
              collect() {
                collect(this);
              },
            }),
      });
    },
    histogram(name, help, opts = {}) {
      return new Histogram({
        name: prefix + name,
        help,
        labelNames: opts.labelNames ?? [],
        buckets: opts.buckets ?? [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        registers: [registry],
      });
    },
  };
}
