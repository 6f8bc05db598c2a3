/**
 * Readiness checks: named probes of a component's dependencies. `/readiness` runs them
 * all (with a timeout each) and reports which failed, so an operator sees *what* is
 * not reachable rather than a bare 503.
 */
import { z } from 'zod';

export interface ReadinessCheck {
  readonly name: string;
  check(signal: AbortSignal): Promise<void>;
}

/** The body of `/readiness`, 200 when ready and 503 when not. */
export const readinessReportSchema = z
  .object({
    ready: z.boolean(),
    checks: z
      .record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() }))
      .describe('Each check by name; a failed one says why.'),
  })
  .strict();
export type ReadinessReport = z.output<typeof readinessReportSchema>;

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
