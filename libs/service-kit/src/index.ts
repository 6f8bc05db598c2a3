/**
 * @kraken/service-kit: the plumbing every component binary shares. Config loading
 * with precise errors, config reference docs and JSON Schema generated from the
 * config schemas, pino logs, Prometheus metrics, /health, /readiness and /metrics,
 * optional OpenTelemetry tracing, and signal-driven shutdown.
 */
export { ConfigError } from './errors.js';
export { loadConfigFile, parseConfig } from './config/config-loader.js';
export { configJsonSchema } from './config/config-json-schema.js';
export type { ConfigJsonSchemaOptions, JsonSchema } from './config/config-json-schema.js';
export { renderConfigReference } from './config/config-reference.js';
export type { ConfigReferenceOptions } from './config/config-reference.js';
export { listenSchema, loggingSchema, tracingSchema } from './config/service-config.js';
export type { ListenConfig, LoggingConfig, TracingConfig } from './config/service-config.js';
export { createLogger, silentLogger } from './logger.js';
export type { Logger } from './logger.js';
export { createMetrics } from './metrics.js';
export type { Metrics } from './metrics.js';
export { readinessReportSchema, runReadinessChecks } from './readiness.js';
export type { ReadinessCheck, ReadinessReport } from './readiness.js';
export { createHttpServer } from './http-server.js';
export type { HttpServerOptions } from './http-server.js';
export { startTracing } from './tracing.js';
export type { Tracing } from './tracing.js';
export { runService } from './lifecycle.js';
export type { Service, RunOptions } from './lifecycle.js';
export { runMain } from './service-main.js';
export type { MainOptions } from './service-main.js';
export type { Subcommand } from './cli/command-line.js';
export type { BuildInfo } from './cli/build-info.js';
export { createServiceApp } from './service-app.js';
export type { ServiceApp, ServiceAppOptions } from './service-app.js';
export { clientTlsSchema, serverTlsSchema, tlsSchema, tlsShape, tlsWritersSchema } from './tls/tls-config.js';
export type { ClientTlsConfig, ServerTlsConfig, TlsConfig } from './tls/tls-config.js';
export { createServerTls } from './tls/server-tls.js';
export type { ServerTls } from './tls/server-tls.js';
export { createClientTls } from './tls/client-tls.js';
export type { ClientTls, ClientTlsContext } from './tls/client-tls.js';
export { createHttpPool } from './http-client/http-pool.js';
export type {
  HttpPool,
  HttpPoolDeps,
  HttpPoolOptions,
  HttpRequest,
  HttpResponse,
} from './http-client/http-pool.js';
export { HttpResponseBody } from './http-client/response-body.js';

export { watchPemFiles } from './tls/pem-files.js';
export type { DirectoryWatch, PemFile, PemFileDeps, WatchedPemFiles } from './tls/pem-files.js';
export { identityMatches, peerIdentity } from './tls/peer-identity.js';
export type { PeerIdentity } from './tls/peer-identity.js';
export { createWriteGuard } from './tls/write-guard.js';
export {
  HttpTimeoutError,
  IdentityForbiddenError,
  InvalidRequestError,
  RemoteApiError,
  RequestAbortedError,
  ServiceUnreachableError,
} from './api/api-errors.js';
export { errorBodySchema, errorFromResponse, errorResponse, installErrorHandler } from './api/error-body.js';
export type { ErrorBody, ErrorResponse, ResponseBody } from './api/error-body.js';
export { invalidResponse, readJsonResponse } from './api/json-response.js';
export { createJsonApiClient } from './api/json-api-client.js';
export type { JsonApiClient, JsonApiClientOptions, JsonApiRequest } from './api/json-api-client.js';
export { openApiDocument, renderOpenApiDocument } from './api/openapi-document.js';
export type { OpenApiDocument } from './api/openapi-document.js';
export type {
  ApiReference,
  HttpMethod,
  RequestBodyContract,
  ResponseBodyContract,
  ResponseContract,
  ResponseLink,
  RouteContract,
  RouteKey,
} from './api/route-contract.js';
export { serviceRouteContracts } from './service-route-contracts.js';
