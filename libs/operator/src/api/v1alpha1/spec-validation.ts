/**
 * Validation of a resource's spec with its zod schema, turning zod's issues into
 * InvalidSpecError fields as a user reads them in the resource (`spec.origins.replicas`,
 * `spec.origins.upstreams[0].url`), one field per unknown key.
 */
import type { z } from 'zod';
import { InvalidSpecError, type SpecIssue } from '../../errors.js';

/** `spec` + a zod path, with array indexes in brackets. */
export function fieldPath(root: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (field, key) => (typeof key === 'number' ? `${field}[${key}]` : `${field}.${String(key)}`),
    root,
  );
}

export function specIssues(root: string, issues: readonly z.core.$ZodIssue[]): SpecIssue[] {
  return issues.flatMap((issue) => {
    const field = fieldPath(root, issue.path);
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({ field: `${field}.${key}`, message: 'unknown field' }));
    return [{ field, message: issue.message }];
  });
}

/** Parses `value` with `schema`, or throws InvalidSpecError naming every bad field under `root`. */
export function parseSpec<S extends z.ZodType>(
  kind: string,
  schema: S,
  value: unknown,
  root = 'spec',
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidSpecError(kind, specIssues(root, result.error.issues));
  return result.data;
}
