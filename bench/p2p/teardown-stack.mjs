// What a run must undo, in reverse order of setup, on every way out: normal completion, an
// error, or SIGINT/SIGTERM (after which the process exits 130). Each step runs once: whoever
// comes first (the code unwinding normally, or the signal handler) starts it, and the other
// waits for that same run to finish.
const steps = [];
let interrupted = false;

/** True once SIGINT/SIGTERM arrived: work still unwinding must not report half a run. */
export const wasInterrupted = () => interrupted;

function runStep(step) {
  step.promise ??= Promise.resolve()
    .then(step.fn)
    .finally(() => {
      const i = steps.indexOf(step);
      if (i !== -1) steps.splice(i, 1);
    });
  return step.promise;
}

/** Registers `fn` (sync or async); returns a function that runs it (once) and resolves when done. */
export function onTeardown(fn) {
  const step = { fn, promise: undefined };
  steps.push(step);
  return () => runStep(step);
}

/** Runs every registered step, newest first; a failing step is reported and the rest still run. */
export async function teardownAll(log) {
  for (const step of [...steps].reverse()) {
    try {
      await runStep(step);
    } catch (err) {
      log(`teardown: ${err.message}`);
    }
  }
}

/**
 * On SIGINT/SIGTERM: tear everything down, then exit 130. A second signal during teardown is
 * ignored rather than cutting it short (which would strand namespaces until the next run).
 */
export function exitOnSignals(log) {
  let stopping = false;
  const onSignal = (signal) => {
    if (stopping) {
      log(`${signal}: still tearing down`);
      return;
    }
    stopping = true;
    interrupted = true;
    log(`${signal}: stopping`);
    teardownAll(log).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
