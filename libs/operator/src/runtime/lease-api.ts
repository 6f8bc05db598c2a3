/**
 * The `coordination.k8s.io/v1` Lease as leader election sees it: a record read, created
 * or replaced whole, with its resourceVersion as the precondition of every replace (a
 * stale one answers 409, and the elector tries again on its next round). It goes
 * through the same JSON transport as every other request, so that a lease request can
 * be aborted (the elector closing) and fails with the same errors.
 */
import { isNotFound } from '../errors.js';
import type { ApiTransport } from './api-transport.js';
import { builtinKinds, resourcePath } from './resource-kind.js';

export interface LeaseSpec {
  /** `''` when nobody holds the lease. */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime?: Date;
  readonly renewTime?: Date;
  readonly leaseTransitions: number;
}

export interface LeaseRecord extends LeaseSpec {
  readonly resourceVersion: string;
}

export interface LeaseRef {
  readonly namespace: string;
  readonly name: string;
}

/** What the leader elector needs of the API server. */
export interface LeaseApi {
  /** The lease, or undefined if it does not exist. */
  get(ref: LeaseRef, signal?: AbortSignal): Promise<LeaseRecord | undefined>;
  /** Rejects with a 409 KubeApiError if it exists already. */
  create(ref: LeaseRef, spec: LeaseSpec, signal?: AbortSignal): Promise<LeaseRecord>;
  /** Rejects with a 409 KubeApiError if the lease changed since `resourceVersion`. */
  update(ref: LeaseRef, spec: LeaseSpec, resourceVersion: string, signal?: AbortSignal): Promise<LeaseRecord>;
}

/** metav1.MicroTime: RFC 3339 in UTC with six fractional digits. */
export function formatMicroTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function createLeaseApi(
  transport: ApiTransport,
  countWrite: (verb: 'create' | 'update') => void,
): LeaseApi {
  const kind = builtinKinds.Lease;
  const body = (ref: LeaseRef, spec: LeaseSpec, resourceVersion?: string) => ({
    apiVersion: kind.apiVersion,
    kind: kind.kind,
    metadata: { name: ref.name, namespace: ref.namespace, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: {
      holderIdentity: spec.holderIdentity,
      leaseDurationSeconds: spec.leaseDurationSeconds,
      leaseTransitions: spec.leaseTransitions,
      ...(spec.acquireTime ? { acquireTime: formatMicroTime(spec.acquireTime) } : {}),
      ...(spec.renewTime ? { renewTime: formatMicroTime(spec.renewTime) } : {}),
    },
  });
  return {
    async get(ref, signal) {
      try {
        const path = resourcePath(kind, ref);
        return toRecord(await transport.request({ method: 'GET', path, signal }));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async create(ref, spec, signal) {
      countWrite('create');
      const path = resourcePath(kind, { namespace: ref.namespace });
      return toRecord(await transport.request({ method: 'POST', path, body: body(ref, spec), signal }));
    },
    async update(ref, spec, resourceVersion, signal) {
      countWrite('update');
      const path = resourcePath(kind, ref);
      return toRecord(
        await transport.request({ method: 'PUT', path, body: body(ref, spec, resourceVersion), signal }),
      );
    },
  };
}

function toRecord(raw: unknown): LeaseRecord {
  const obj = (raw ?? {}) as {
    metadata?: { resourceVersion?: string };
    spec?: {
      holderIdentity?: string;
      leaseDurationSeconds?: number;
      acquireTime?: string;
      renewTime?: string;
      leaseTransitions?: number;
    };
  };
  const spec = obj.spec ?? {};
  return {
    resourceVersion: obj.metadata?.resourceVersion ?? '',
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: spec.acquireTime ? new Date(spec.acquireTime) : undefined,
    renewTime: spec.renewTime ? new Date(spec.renewTime) : undefined,
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}
