/**
 * OpenTelemetry tracing, off unless configured. When enabled, the Node SDK with
 * auto-instrumented HTTP exports spans over OTLP/HTTP.
 */
import type { TracingConfig } from './config/service-config.js';

export interface Tracing {
  close(): Promise<void>;
}

export async function startTracing(serviceName: string, config: TracingConfig): Promise<Tracing> {
  if (!config.enabled) return { close: async () => {} };
  const [{ NodeSDK }, { OTLPTraceExporter }, { TraceIdRatioBasedSampler }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/sdk-trace-base'),
  ]);
  const sdk = new NodeSDK({
    serviceName: `kraken-${serviceName}`,
    traceExporter: new OTLPTraceExporter(config.otlpEndpoint ? { url: config.otlpEndpoint } : {}),
    sampler: new TraceIdRatioBasedSampler(config.sampleRatio),
  });
  sdk.start();
  let closed = false;
  return {
    async close() {
      if (closed) return;
      closed = true;
      await sdk.shutdown();
    },
  };
}
