/**
 * Writing status only when it changed. A new status is compared with the cached one,
 * ignoring the lastTransitionTime of conditions (a condition whose status changed
 * differs in `status` anyway); when it differs, it is sent as a JSON merge patch of
 * the `/status` subresource that also removes the fields the new status no longer has
 * (a merge patch alone would keep them).
 */

/**
 * True when writing `next` over `current` would change nothing a reader cares about:
 * deep equality, ignoring the lastTransitionTime of conditions (a condition whose
 * status changed differs in `status` anyway) and fields that are absent on one side
 * and undefined on the other.
 */
export function statusEqual(current: unknown, next: unknown): boolean {
  return deepEqual(withoutTransitionTimes(current), withoutTransitionTimes(next));
}

function withoutTransitionTimes(status: unknown): unknown {
  if (typeof status !== 'object' || status === null || Array.isArray(status)) return status;
  const conditions = (status as { conditions?: unknown }).conditions;
  if (!Array.isArray(conditions)) return status;
  return {
    ...status,
    conditions: conditions.map((c: unknown) => {
      if (typeof c !== 'object' || c === null) return c;
      const { lastTransitionTime: _ignored, ...rest } = c as Record<string, unknown>;
      return rest;
    }),
  };
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const key of keys) if (!deepEqual(ra[key], rb[key])) return false;
  return true;
}

/**
 * The merge patch that turns `current` into `next`: `next`, plus `null` for every key
 * of `current` (at any depth of nested objects) that `next` lacks. Lists are replaced
 * whole, as merge patch does.
 */
export function replacingMergePatch(current: unknown, next: unknown): unknown {
  if (!isRecord(current) || !isRecord(next)) return next;
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(current)) if (!(key in next) || next[key] === undefined) patch[key] = null;
  for (const [key, value] of Object.entries(next)) {
    if (value !== undefined) patch[key] = replacingMergePatch(current[key], value);
  }
  return patch;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
