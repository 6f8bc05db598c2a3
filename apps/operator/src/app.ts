/**
 * The operator service: the KrakenCluster and ReplicationRule controllers under leader
 * election (@kraken/operator), plus /health, /readiness (the API server answers) and
 * /metrics (reconciles, queue depth, API writes, leadership).
 */
import { systemClock, type Clock } from '@kraken/foundation';
import {
  createBuildIndexApi,
  createKubeClient,
  createOperator,
  createRuntimeMetrics,
  krakenClusterKind,
  replicationRuleKind,
} from '@kraken/operator';
import {
  createClientTls,
  createHttpServer,
  createMetrics,
  createServiceApp,
  type Logger,
  type ServiceApp,
} from '@kraken/service-kit';
import type { Config } from './config.js';

export interface App extends ServiceApp {
  /** Settles when leadership is lost: the process must exit. */
  readonly failed: Promise<Error>;
  isLeading(): boolean;
}

export interface AppDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly env?: NodeJS.ProcessEnv;
}

export function createApp(config: Config, deps: AppDeps): App {
  const { logger } = deps;
  const clock = deps.clock ?? systemClock;
  const metrics = createMetrics('operator');
  const runtimeMetrics = createRuntimeMetrics(metrics);
  const client = createKubeClient({
    ...(config.kubernetes.kubeconfig === undefined ? {} : { kubeconfigPath: config.kubernetes.kubeconfig }),
    env: deps.env ?? process.env,
    kinds: [krakenClusterKind, replicationRuleKind],
    metrics: runtimeMetrics,
    clock,
    logger,
  });
  const clientTls = createClientTls(config.tls.client, { logger });
  const buildIndex = createBuildIndexApi({
    serviceAddresses: config.serviceAddresses,
    tls: clientTls,
    timeoutMs: config.replication.requestTimeoutMs,
  });
  let fail: (err: Error) => void = () => {};
  const failed = new Promise<Error>((resolve) => (fail = resolve));
  const operator = createOperator({
    client,
    buildIndex,
    metrics: runtimeMetrics,
    clock,
    logger,
    workQueue: config.workQueue,
    leaderElection: config.leaderElection,
    ...(config.kubernetes.namespace === undefined ? {} : { namespace: config.kubernetes.namespace }),
    ruleStatusIntervalMs: config.replication.statusIntervalMs,
    operatorIdentity: config.replication.operatorIdentity,
    onLeadershipLost: (err) => fail(err ?? new Error('leadership lost')),
  });
  const server = createHttpServer({
    logger,
    metrics,
    tls: config.tls.server,
    readinessChecks: [
      {
        name: 'kubernetes',
        check: async (signal) => {
          await client.get(krakenClusterKind, config.kubernetes.namespace ?? 'default', 'readiness-probe', {
            signal,
          });
        },
      },
    ],
  });
  const app = createServiceApp({
    component: 'operator',
    server,
    listen: config.listen,
    logger,
    describe: { kubernetes: client.source, namespace: config.kubernetes.namespace ?? '(all)' },
    beforeListen: () => operator.start(),
    afterClose: async () => {
      await operator.close();
      clientTls.close();
    },
  });
  return {
    ...app,
    get url() {
      return app.url;
    },
    failed,
    isLeading: () => operator.isLeading(),
  };
}
