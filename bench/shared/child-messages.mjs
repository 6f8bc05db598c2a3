// The benches' child processes report over IPC: waiting for one message of a type.

/**
 * Resolves with the next message of `type` from `child`, or rejects when it exits first
 * (`who` names it in the error: "a floor process").
 */
export function nextMessage(child, type, who) {
  return new Promise((resolve, reject) => {
    const onMessage = (msg) => {
      if (msg.type !== type) return;
      cleanup();
      resolve(msg);
    };
    const onExit = (code) => {
      cleanup();
      reject(new Error(`${who} exited (${code}) before '${type}'`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
