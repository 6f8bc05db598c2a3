// Samples the source build-index's `GET /v1/replication/status` for one rule through the run:
// queue depth, lag (age of the oldest change not yet replicated) and bytes copied over time,
// for the report and the lag plot.
import { setTimeout as sleep } from 'node:timers/promises';

/** One rule's status, or undefined when the build-index does not answer. */
export async function ruleStatus(buildIndex, rule) {
  const res = await fetch(`${buildIndex}/v1/replication/status`).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  const body = await res.json();
  return body.rules.find((r) => r.rule === rule);
}

/** Samples every `intervalMs` until `stop()`; `samples` holds `{ t, pending, inFlight, failed, lagSeconds, bytesCopied, done }`. */
export function startStatusSampler({ buildIndex, rule, intervalMs, now }) {
  const samples = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t = now();
      const status = await ruleStatus(buildIndex, rule);
      if (status !== undefined) {
        const { pending, inFlight, failed, lagSeconds, bytesCopied, done } = status;
        samples.push({ t: Math.round(t) / 1000, pending, inFlight, failed, lagSeconds, bytesCopied, done });
      }
      await sleep(intervalMs);
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** Polls until the rule has nothing queued or running; resolves with its status. */
export async function waitDrained({ buildIndex, rule, timeoutMs }) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await ruleStatus(buildIndex, rule);
    if (status !== undefined && status.pending === 0 && status.inFlight === 0) return status;
    await sleep(200);
  }
  throw new Error(`rule ${rule} still has tasks queued after ${timeoutMs / 1000} s`);
}
