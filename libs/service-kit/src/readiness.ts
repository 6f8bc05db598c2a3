/**
 * Readiness checks: named probes of a component's dependencies. `/readiness` runs them
 * all (with a timeout each) and reports which failed, so an operator sees *what* is
 * not reachable rather than a bare 503.
 */
export interface ReadinessCheck {
  readonly name: string;
  check(signal: AbortSignal): Promise<void>;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Record<string, { ok: boolean; error?: string }>;
}

export async function runReadinessChecks(
  checks: readonly ReadinessCheck[],
  timeoutMs = 2000,
): Promise<ReadinessReport> {
  const entries = await Promise.all(
    checks.map(async (c) => {
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        await Promise.race([
          c.check(signal),
          new Promise<never>((_, reject) =>
            signal.addEventListener('abort', () => reject(new Error(`timed out after ${timeoutMs} ms`)), {
              once: true,
            }),
          ),
        ]);
        return [c.name, { ok: true }] as const;
      } catch (err) {
        return [c.name, { ok: false, error: (err as Error).message }] as const;
      }
    }),
  );
  return { ready: entries.every(([, r]) => r.ok), checks: Object.fromEntries(entries) };
}
