/**
 * Per-node health from two sources feeding one state machine: active probes on an
 * interval, and passive reports from callers about real requests. A node turns
 * unhealthy after `unhealthyThreshold` consecutive failures and healthy again after
 * `healthyThreshold` consecutive successes. New nodes start healthy: a fresh ring
 * must serve before its first probe round, and a bad node is found within a few
 * failures anyway.
 */
import type { HealthProbe } from './health-probe.js';
import type { RingNode } from './ring-node.js';
import { systemClock, type TimerHandle, type Timers } from '@kraken/foundation';
import { noopLogger, type RingLogger } from './ring-logger.js';

export interface HealthOptions {
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
  /** Active probing; when disabled, only passive reports move a node's state. */
  readonly active: { readonly enabled: boolean; readonly intervalMs: number; readonly timeoutMs: number };
}

export interface HealthDeps {
  readonly probe: HealthProbe;
  readonly timers?: Timers;
  readonly logger?: RingLogger;
}

export interface NodeHealth {
  readonly nodeId: string;
  readonly healthy: boolean;
  readonly consecutiveFailures: number;
  readonly consecutiveSuccesses: number;
}

export interface HealthChange {
  readonly node: RingNode;
  readonly healthy: boolean;
}

export type HealthListener = (change: HealthChange) => void;

export interface HealthTracker {
  /** Unknown ids count as healthy: there is no evidence against them. */
  isHealthy(nodeId: string): boolean;
  reportSuccess(nodeId: string): void;
  reportFailure(nodeId: string, error?: unknown): void;
  /** Tracks exactly these nodes: new ones start healthy, removed ones are forgotten. */
  setMembers(nodes: readonly RingNode[]): void;
  status(): NodeHealth[];
  /** Probes every member once, now; concurrent calls share the round. */
  checkNow(): Promise<void>;
  watch(listener: HealthListener): () => void;
  start(): void;
  close(): void;
}

interface NodeState {
  node: RingNode;
  healthy: boolean;
  failures: number;
  successes: number;
}

export function createHealthTracker(options: HealthOptions, deps: HealthDeps): HealthTracker {
  const timers = deps.timers ?? systemClock;
  const logger = deps.logger ?? noopLogger;
  const states = new Map<string, NodeState>();
  const listeners = new Set<HealthListener>();
  const lifetime = new AbortController();
  let round: Promise<void> | undefined;
  let timer: TimerHandle | undefined;
  let started = false;

  // Only transitions are logged: a dead node probed every few seconds, or a burst
  // of failed requests, would otherwise flood the log.
  function transition(state: NodeState, healthy: boolean, error?: unknown): void {
    state.healthy = healthy;
    if (healthy) logger.info({ node: state.node.id }, 'ring node healthy');
    else logger.warn({ node: state.node.id, err: error }, 'ring node unhealthy');
    for (const listener of listeners) {
      try {
        listener({ node: state.node, healthy });
      } catch (error) {
        logger.warn({ err: error }, 'ring health listener threw');
      }
    }
  }

  function recordSuccess(state: NodeState): void {
    state.failures = 0;
    state.successes++;
    if (!state.healthy && state.successes >= options.healthyThreshold) transition(state, true);
  }

  function recordFailure(state: NodeState, error: unknown): void {
    state.successes = 0;
    state.failures++;
    if (state.healthy && state.failures >= options.unhealthyThreshold) transition(state, false, error);
  }

  async function probeOne(state: NodeState): Promise<void> {
    const controller = new AbortController();
    const onClose = (): void => controller.abort(lifetime.signal.reason);
    lifetime.signal.addEventListener('abort', onClose, { once: true });
    const timeout = timers.setTimeout(
      () => controller.abort(new Error('health probe timed out')),
      options.active.timeoutMs,
    );
    try {
      await deps.probe(state.node, controller.signal);
      if (!lifetime.signal.aborted && states.get(state.node.id) === state) recordSuccess(state);
    } catch (error) {
      if (!lifetime.signal.aborted && states.get(state.node.id) === state) recordFailure(state, error);
    } finally {
      timers.clearTimeout(timeout);
      lifetime.signal.removeEventListener('abort', onClose);
    }
  }

  function checkNow(): Promise<void> {
    round ??= Promise.all([...states.values()].map(probeOne))
      .then(() => undefined)
      .finally(() => {
        round = undefined;
      });
    return round;
  }

  function schedule(): void {
    if (lifetime.signal.aborted || !options.active.enabled) return;
    timer = timers.setTimeout(() => {
      timer = undefined;
      void checkNow().finally(schedule);
    }, options.active.intervalMs);
  }

  return {
    isHealthy: (nodeId) => states.get(nodeId)?.healthy ?? true,
    reportSuccess(nodeId) {
      const state = states.get(nodeId);
      if (state !== undefined) recordSuccess(state);
    },
    reportFailure(nodeId, error) {
      const state = states.get(nodeId);
      if (state !== undefined) recordFailure(state, error);
    },
    setMembers(nodes) {
      const keep = new Set(nodes.map((n) => n.id));
      for (const id of states.keys()) if (!keep.has(id)) states.delete(id);
      for (const node of nodes) {
        const state = states.get(node.id);
        if (state === undefined) states.set(node.id, { node, healthy: true, failures: 0, successes: 0 });
        else state.node = node;
      }
    },
    status: () =>
      [...states.values()].map((s) => ({
        nodeId: s.node.id,
        healthy: s.healthy,
        consecutiveFailures: s.failures,
        consecutiveSuccesses: s.successes,
      })),
    checkNow,
    watch(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    start() {
      if (started || lifetime.signal.aborted) return;
      started = true;
      schedule();
    },
    close() {
      if (lifetime.signal.aborted) return;
      lifetime.abort(new Error('health tracker closed'));
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      listeners.clear();
    },
  };
}
