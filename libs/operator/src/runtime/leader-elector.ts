/**
 * Leader election through a Lease. One process holds the lease and reconciles; the
 * others wait to take it over.
 * - Every `retryPeriodMs` a candidate reads the lease. It takes the lease when nobody
 *   holds it (a released lease: the next candidate leads within one retry period), or
 *   when the record has not changed for the holder's lease duration (a holder that died
 *   without releasing it). Durations are measured on this process's clock from when it
 *   saw the record change, never by comparing timestamps written by another machine.
 * - Every write carries the resourceVersion read just before, so two candidates
 *   cannot both take the lease: the second gets 409 and waits for the next round.
 * - The leader renews every `retryPeriodMs`. When no renewal has succeeded for
 *   `renewDeadlineMs`, or it sees another holder, leadership is lost at once: the
 *   leadership signal aborts (so every reconcile stops) and `onStoppedLeading` runs.
 *   A lost elector does not try again; the process is expected to exit.
 * - `close()` releases a held lease (holderIdentity set empty) before it returns.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createDueTimer, sleep, type Clock } from '@kraken/foundation';
import { silentLogger, type Logger } from '@kraken/service-kit';
import { LeadershipLostError, isConflict } from '../errors.js';
import type { LeaseApi, LeaseRecord, LeaseRef, LeaseSpec } from './lease-api.js';
import type { RuntimeMetrics } from './runtime-metrics.js';

export interface LeaderElectorOptions {
  readonly leases: LeaseApi;
  readonly lease: LeaseRef;
  /** Unique per process; defaults to hostname, pid and random bytes. */
  readonly identity?: string;
  /** How long a lease not renewed stays with its holder. */
  readonly leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up leadership. */
  readonly renewDeadlineMs?: number;
  /** The interval of acquire and renew attempts. */
  readonly retryPeriodMs?: number;
  readonly clock: Clock;
  /** Wall-clock time for the lease's acquireTime and renewTime (informational only). */
  readonly wallClock?: () => Date;
  /** Called once when this process becomes leader; `signal` aborts when leadership ends. */
  readonly onStartedLeading?: (signal: AbortSignal) => void;
  /** Called once when leadership ends: `released` by close(), or `lost`. */
  readonly onStoppedLeading?: (reason: 'released' | 'lost', err?: LeadershipLostError) => void;
  readonly metrics?: RuntimeMetrics;
  readonly logger?: Logger;
}

export interface LeaderElector {
  readonly identity: string;
  /** Starts competing for the lease. Idempotent. */
  start(): void;
  isLeader(): boolean;
  /** Stops competing and releases the lease if held. Idempotent. */
  close(): Promise<void>;
}

export function defaultIdentity(): string {
  return `${hostname()}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export function createLeaderElector(options: LeaderElectorOptions): LeaderElector {
  const { leases, lease, clock } = options;
  const leaseDurationMs = options.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = options.retryPeriodMs ?? 2_000;
  if (!(retryPeriodMs < renewDeadlineMs && renewDeadlineMs < leaseDurationMs)) {
    throw new RangeError('leader election needs retryPeriodMs < renewDeadlineMs < leaseDurationMs');
  }
  const identity = options.identity ?? defaultIdentity();
  const wallClock = options.wallClock ?? (() => new Date());
  const logger = options.logger ?? silentLogger();
  const leaseName = `${lease.namespace}/${lease.name}`;
  const stop = new AbortController();
  const deadline = createDueTimer(clock, () =>
    lose(`no renewal succeeded within renewDeadlineMs (${renewDeadlineMs} ms)`),
  );
  /** The last record read or written, and when (this clock) it was first seen. */
  let observed: LeaseRecord | undefined;
  let observedAt = 0;
  let leadership: AbortController | undefined;
  let loop: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  let lost = false;

  options.metrics?.leader.set(0);

  /** Runs a callback of the app; its failure is logged, never breaks the election. */
  function notify(callback: () => void): void {
    try {
      callback();
    } catch (err) {
      logger.error({ err, lease: leaseName }, 'leader election: callback failed');
    }
  }

  function observe(record: LeaseRecord): void {
    if (record.resourceVersion !== observed?.resourceVersion) observedAt = clock.now();
    observed = record;
  }

  type Attempt = 'held' | 'taken' | 'failed';

  /** One read and, if the lease is ours or free or expired, one write. */
  async function attempt(): Promise<Attempt> {
    const now = wallClock();
    const spec = (current: LeaseRecord | undefined): LeaseSpec => {
      const mine = current?.holderIdentity === identity;
      return {
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
        acquireTime: mine ? (current?.acquireTime ?? now) : now,
        renewTime: now,
        leaseTransitions: current === undefined ? 0 : current.leaseTransitions + (mine ? 0 : 1),
      };
    };
    try {
      const current = await leases.get(lease, stop.signal);
      if (current === undefined) {
        observe(await leases.create(lease, spec(undefined), stop.signal));
        return 'held';
      }
      observe(current);
      const holder = current.holderIdentity;
      const heldFor =
        current.leaseDurationSeconds > 0 ? current.leaseDurationSeconds * 1000 : leaseDurationMs;
      if (holder !== identity && holder !== '' && clock.now() < observedAt + heldFor) return 'taken';
      observe(await leases.update(lease, spec(current), current.resourceVersion, stop.signal));
      return 'held';
    } catch (err) {
      if (!stop.signal.aborted && !isConflict(err)) {
        logger.warn({ err, lease: leaseName }, 'leader election: lease request failed');
      }
      return 'failed';
    }
  }

  function lead(renewedFrom: number): void {
    const term = new AbortController();
    leadership = term;
    deadline.set(renewedFrom + renewDeadlineMs);
    options.metrics?.leader.set(1);
    logger.info({ lease: leaseName, identity }, 'leader election: leading');
    notify(() => options.onStartedLeading?.(term.signal));
  }

  function lose(reason: string): void {
    if (leadership === undefined || leadership.signal.aborted) return;
    lost = true;
    const err = new LeadershipLostError(leaseName, reason);
    deadline.set(undefined);
    options.metrics?.leader.set(0);
    logger.error({ lease: leaseName, identity, reason }, 'leader election: leadership lost');
    leadership.abort(err);
    stop.abort(err);
    notify(() => options.onStoppedLeading?.('lost', err));
  }

  const leading = () => leadership !== undefined && !leadership.signal.aborted;

  async function pause(): Promise<boolean> {
    try {
      await sleep(clock, retryPeriodMs, stop.signal);
      return true;
    } catch {
      return false;
    }
  }

  async function run(): Promise<void> {
    for (;;) {
      const startedAt = clock.now();
      if ((await attempt()) === 'held' && !stop.signal.aborted) {
        lead(startedAt);
        break;
      }
      if (!(await pause())) return;
    }
    while (leading()) {
      if (!(await pause())) return;
      const startedAt = clock.now();
      const outcome = await attempt();
      if (!leading() || stop.signal.aborted) return;
      if (outcome === 'held') deadline.set(startedAt + renewDeadlineMs);
      else if (outcome === 'taken') lose(`the lease is held by ${observed?.holderIdentity}`);
      // 'failed': try again next period, until the deadline says otherwise.
    }
  }

  /**
   * Gives the lease up: holder empty, so that a waiting candidate takes it at once.
   * Bounded by the renew deadline, so that closing never hangs on a dead API server.
   */
  async function release(): Promise<void> {
    const bound = new AbortController();
    const timer = clock.setTimeout(() => bound.abort(), renewDeadlineMs);
    try {
      for (let tries = 0; tries < 2 && observed !== undefined; tries++) {
        if (observed.holderIdentity !== identity) return;
        const spec: LeaseSpec = { ...observed, holderIdentity: '', renewTime: wallClock() };
        try {
          await leases.update(lease, spec, observed.resourceVersion, bound.signal);
          return;
        } catch (err) {
          // A renewal in flight when close() began may have moved the version on.
          if (!isConflict(err)) break;
          observed = await leases.get(lease, bound.signal).catch(() => undefined);
        }
      }
      if (observed?.holderIdentity === identity) {
        logger.warn({ lease: leaseName }, 'leader election: could not release the lease; it expires instead');
      }
    } finally {
      clock.clearTimeout(timer);
    }
  }

  return {
    identity,
    start() {
      if (loop !== undefined || closing !== undefined) return;
      loop = run();
    },
    isLeader: leading,
    close() {
      closing ??= (async () => {
        const wasLeading = leading();
        stop.abort();
        await loop;
        deadline.set(undefined);
        if (wasLeading && leading()) {
          // Reconciles stop before the lease is free for another process to take.
          leadership?.abort(new Error(`leadership of Lease ${leaseName} released`));
          options.metrics?.leader.set(0);
        }
        // Also when close() came between a successful write and leading.
        await release();
        if (wasLeading && !lost) {
          logger.info({ lease: leaseName, identity }, 'leader election: released');
          notify(() => options.onStoppedLeading?.('released'));
        }
      })();
      return closing;
    },
  };
}
