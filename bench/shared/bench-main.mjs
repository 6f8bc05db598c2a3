// How a bench's main.mjs starts and stops: bad flags exit 2 with their message, a failure exits
// 1 with its stack, SIGINT or SIGTERM cleans up and exits 130.

/** A bad flag or flag value: its message is all the user needs. */
export class UsageError extends Error {}

/** Runs `main`, reporting a rejection as `[name] …` and exiting 2 (UsageError) or 1. */
export function runBenchMain(name, main) {
  main().catch((err) => {
    const usage = err instanceof UsageError;
    console.error(`[${name}] ${usage ? err.message : `failed: ${err.stack ?? err}`}`);
    process.exit(usage ? 2 : 1);
  });
}

/**
 * On SIGINT or SIGTERM: logs it, calls `interrupted()` (to mark the run failed), awaits
 * `cleanup()` and exits 130. Returns the function that removes the handlers again.
 */
export function stopOnSignals({ log, interrupted, cleanup }) {
  const onSignal = (signal) => {
    log(`${signal}: stopping`);
    interrupted();
    cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
