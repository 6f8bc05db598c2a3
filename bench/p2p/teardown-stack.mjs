// What a run must undo, in reverse order of setup, on every way out: normal completion, an
// error, or SIGINT/SIGTERM (after which the process exits 130). Each step runs once.
const steps = [];

/** Registers `fn` (sync or async); returns a function that runs it now and unregisters it. */
export function onTeardown(fn) {
  const step = { fn, done: false };
  steps.push(step);
  return async () => {
    const i = steps.indexOf(step);
    if (i !== -1) steps.splice(i, 1);
    if (!step.done) {
      step.done = true;
      await step.fn();
    }
  };
}

/** Runs every registered step, newest first; a failing step is reported and the rest still run. */
export async function teardownAll(log) {
  while (steps.length > 0) {
    const step = steps.pop();
    if (step.done) continue;
    step.done = true;
    try {
      await step.fn();
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
    log(`${signal}: stopping`);
    teardownAll(log).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
