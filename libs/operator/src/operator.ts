/**
 * The operator: the KrakenCluster and ReplicationRule controllers, run while this
 * process holds the leader Lease (or at once with leader election off). Controllers
 * are created per term of leadership and stopped by its signal, so a process that
 * loses the lease stops writing at once; `onLeadershipLost` then ends the process, as
 * a restarted one rejoins the election with empty caches instead of stale ones.
 */
import type { Clock } from '@kraken/foundation';
import type { Logger } from '@kraken/service-kit';
import type { BuildIndexApi } from './controllers/build-index-api.js';
import { createClusterController } from './controllers/cluster-controller.js';
import { createRuleController } from './controllers/rule-controller.js';
import type { Controller } from './runtime/controller.js';
import type { KubeClient } from './runtime/kube-client.js';
import { createLeaderElector, type LeaderElector } from './runtime/leader-elector.js';
import type { LeaderElectionConfig, WorkQueueConfig } from './runtime/runtime-config.js';
import type { RuntimeMetrics } from './runtime/runtime-metrics.js';

export interface OperatorOptions {
  readonly client: KubeClient;
  readonly buildIndex: BuildIndexApi;
  readonly metrics: RuntimeMetrics;
  readonly clock: Clock;
  /** Wall-clock time for status conditions (default: the system's). */
  readonly wallClock?: () => Date;
  readonly logger: Logger;
  readonly workQueue: WorkQueueConfig;
  readonly leaderElection: LeaderElectionConfig;
  /** The one namespace watched; every namespace when undefined. */
  readonly namespace?: string;
  /** How often a ReplicationRule's status is read from its build-index (ms). */
  readonly ruleStatusIntervalMs: number;
  /** The identity of the operator's client certificate (writes replication rules). */
  readonly operatorIdentity?: string;
  /** Called once when the lease is lost; the process should exit. */
  readonly onLeadershipLost: (err?: Error) => void;
}

export interface Operator {
  start(): Promise<void>;
  /** True while the controllers run. */
  isLeading(): boolean;
  close(): Promise<void>;
}

export function createOperator(options: OperatorOptions): Operator {
  const { client, logger } = options;
  let controllers: Controller[] = [];
  let elector: LeaderElector | undefined;
  let running = false;
  let closed = false;

  const startControllers = (signal?: AbortSignal) => {
    const common = {
      client,
      metrics: options.metrics,
      queue: options.workQueue,
      clock: options.clock,
      ...(options.wallClock === undefined ? {} : { wallClock: options.wallClock }),
      logger,
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      ...(signal === undefined ? {} : { signal }),
    };
    controllers = [
      createClusterController({
        ...common,
        ...(options.operatorIdentity === undefined ? {} : { operatorIdentity: options.operatorIdentity }),
      }),
      createRuleController({
        ...common,
        buildIndex: options.buildIndex,
        statusIntervalMs: options.ruleStatusIntervalMs,
      }),
    ];
    running = true;
    signal?.addEventListener('abort', () => (running = false), { once: true });
    for (const controller of controllers)
      controller.start().catch((err: unknown) => {
        if (signal?.aborted || closed) return;
        logger.error({ err, controller: controller.name }, 'controller failed to start');
        options.onLeadershipLost(err as Error);
      });
  };

  return {
    async start() {
      if (!options.leaderElection.enabled) {
        logger.info('leader election off: reconciling');
        startControllers();
        return;
      }
      const election = options.leaderElection;
      const namespace = election.leaseNamespace ?? client.namespace ?? 'default';
      elector = createLeaderElector({
        leases: client.leases,
        lease: { namespace, name: election.leaseName },
        leaseDurationMs: election.leaseDurationMs,
        renewDeadlineMs: election.renewDeadlineMs,
        retryPeriodMs: election.retryPeriodMs,
        clock: options.clock,
        metrics: options.metrics,
        logger,
        onStartedLeading: (signal) => {
          logger.info({ lease: `${namespace}/${election.leaseName}` }, 'leading: reconciling');
          startControllers(signal);
        },
        onStoppedLeading: (reason, err) => {
          running = false;
          if (reason === 'lost' && !closed) {
            logger.error({ err }, 'leadership lost: stopping');
            options.onLeadershipLost(err);
          }
        },
      });
      elector.start();
    },
    isLeading: () => running,
    async close() {
      if (closed) return;
      closed = true;
      // Controllers first, so nothing writes after the lease is released.
      await Promise.all(controllers.map((c) => c.close()));
      running = false;
      await elector?.close();
      await client.close();
      await options.buildIndex.close();
    },
  };
}
