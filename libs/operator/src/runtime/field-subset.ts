/**
 * Whether a live object already holds every field of a desired one: the test that lets
 * server-side apply skip a request that would change nothing. The live object has more
 * (status, metadata the server owns, defaults of fields we left out); that is fine.
 * Every field we set must be there with an equal value.
 *
 * Rules:
 * - objects: each key of the desired object must match in the live one; extra live
 *   keys are ignored;
 * - lists: compared element by element, in order, and must have the same length, so
 *   that an element added by hand to a list we own shows as drift (each element is
 *   itself compared as a subset, since the server defaults fields inside elements,
 *   e.g. a container's `terminationMessagePath` or a port's `protocol`);
 * - scalars: strictly equal (`1` is not `"1"`);
 * - a desired zero value (`false`, `0`, `""`, `{}`, `[]`) matches an absent live field,
 *   since the server drops zero values of fields declared `omitempty`;
 * - a desired `null` matches only an absent (or null) live field;
 * - `status` at the top level is not compared: apply does not write it.
 *
 * What the renderer must therefore emit, so that an unchanged object compares equal
 * (the API server normalises the others, and they would be re-applied on every pass):
 * - quantities as strings in canonical form: `"500m"`, `"1"`, `"2"` for CPU (never
 *   `"1000m"`, `"0.5"` or a number); `"128Mi"`, `"1Gi"` for memory (never `"1024Mi"`
 *   or `"1.5Gi"`: write `"1536Mi"`);
 * - int-or-string fields (ports, `targetPort`, `maxUnavailable`) in the type the server
 *   keeps: a number stays a number, `"25%"` stays a string;
 * - Secret values under `data` in base64 (`stringData` is write-only and never read back);
 * - timestamps in RFC 3339 with seconds and `Z`, without fractions;
 * - lists in the order the server keeps them (it does not sort; the renderer must be
 *   deterministic, e.g. env vars and volumes in a fixed order);
 * - label and annotation values as strings.
 */

/** True when `live` holds every field of `desired` with an equal value. */
export function isFieldSubset(desired: unknown, live: unknown): boolean {
  return firstDifference(desired, live, '') === undefined;
}

/**
 * The path of the first field of `desired` that `live` lacks or holds with another
 * value (`.spec.replicas`, `.spec.template.spec.containers[0].image`), or undefined.
 */
export function firstDifference(desired: unknown, live: unknown, path = ''): string | undefined {
  if (desired === undefined) return undefined;
  if (desired === null) return live === null || live === undefined ? undefined : path || '.';
  if (live === undefined || live === null) {
    // An absent object is an empty one: a desired object of zero values still matches.
    if (typeof desired === 'object' && !Array.isArray(desired)) return firstDifference(desired, {}, path);
    return isZero(desired) ? undefined : path || '.';
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return path || '.';
    for (let i = 0; i < desired.length; i++) {
      const d = firstDifference(desired[i], live[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (typeof desired === 'object') {
    if (typeof live !== 'object' || Array.isArray(live)) return path || '.';
    const liveRecord = live as Record<string, unknown>;
    for (const [key, value] of Object.entries(desired)) {
      if (path === '' && key === 'status') continue;
      const d = firstDifference(value, liveRecord[key], `${path}.${key}`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return desired === live ? undefined : path || '.';
}

function isZero(value: unknown): boolean {
  return value === false || value === 0 || value === '' || (Array.isArray(value) && value.length === 0);
}
