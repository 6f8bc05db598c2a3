/**
 * Adding and removing a finalizer without clobbering a concurrent change. The list is
 * written by a JSON patch that also sets the resourceVersion it was computed from: the
 * API server treats that as a precondition and answers 409 when the object changed in
 * between (another controller added its own finalizer, say). The change is then made
 * again on a fresh read, a few times, before the conflict is reported.
 */
import { isConflict, isNotFound } from '../errors.js';
import type { KubeObject } from './resource-kind.js';

export interface FinalizerPatcher {
  /** The object as the server has it now, or undefined if it is gone. */
  reread(obj: KubeObject, signal?: AbortSignal): Promise<KubeObject | undefined>;
  jsonPatch(obj: KubeObject, ops: readonly JsonPatchOp[], signal?: AbortSignal): Promise<KubeObject>;
}

export interface JsonPatchOp {
  readonly op: 'add' | 'replace' | 'remove' | 'test';
  readonly path: string;
  readonly value?: unknown;
}

const maxAttempts = 5;

/**
 * Makes the finalizer list `change(list)` (undefined: no change needed) and returns
 * the object as written, the object unchanged when nothing had to change, or
 * undefined when the object no longer exists.
 */
export async function changeFinalizers<T extends KubeObject>(
  patcher: FinalizerPatcher,
  obj: T,
  change: (finalizers: readonly string[]) => string[] | undefined,
  signal?: AbortSignal,
): Promise<T | undefined> {
  let current: KubeObject | undefined = obj;
  for (let attempt = 1; ; attempt++) {
    if (current === undefined) return undefined;
    const next = change(current.metadata?.finalizers ?? []);
    if (next === undefined) return current as T;
    const ops: JsonPatchOp[] = [
      { op: 'replace', path: '/metadata/resourceVersion', value: current.metadata?.resourceVersion ?? '' },
      { op: 'add', path: '/metadata/finalizers', value: next },
    ];
    try {
      return (await patcher.jsonPatch(current, ops, signal)) as T;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      if (!isConflict(err) || attempt >= maxAttempts) throw err;
      current = await patcher.reread(current, signal);
    }
  }
}

export function withFinalizer(finalizer: string) {
  return (list: readonly string[]): string[] | undefined =>
    list.includes(finalizer) ? undefined : [...list, finalizer];
}

export function withoutFinalizer(finalizer: string) {
  return (list: readonly string[]): string[] | undefined =>
    list.includes(finalizer) ? list.filter((f) => f !== finalizer) : undefined;
}
