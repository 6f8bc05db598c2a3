/**
 * Status conditions. A condition's lastTransitionTime records when its status last
 * changed, so setting a condition to the status it already has keeps the old time
 * (and the status patch then sees no change: status-patch.ts).
 */

/** The shape every condition shares (the metav1.Condition fields). */
export interface ConditionLike {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason?: string;
  readonly message?: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime?: string;
}

/** metav1.Time: RFC 3339 in UTC, whole seconds (the API server drops fractions). */
export function formatKubeTime(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * The conditions with `condition` set: replaced in place when one of its type exists
 * (keeping that one's lastTransitionTime when the status is unchanged), appended
 * otherwise. Never mutates `conditions`.
 */
export function setCondition<C extends ConditionLike>(
  conditions: readonly C[] | undefined,
  condition: Omit<C, 'lastTransitionTime'> & { lastTransitionTime?: string },
  now: Date,
): C[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === condition.type);
  const existing = index < 0 ? undefined : list[index];
  const lastTransitionTime =
    existing !== undefined && existing.status === condition.status && existing.lastTransitionTime
      ? existing.lastTransitionTime
      : formatKubeTime(now);
  const next = { ...condition, lastTransitionTime } as unknown as C;
  if (index < 0) list.push(next);
  else list[index] = next;
  return list;
}

/** The condition of `type`, if present. */
export function findCondition<C extends ConditionLike>(
  conditions: readonly C[] | undefined,
  type: string,
): C | undefined {
  return conditions?.find((c) => c.type === type);
}
