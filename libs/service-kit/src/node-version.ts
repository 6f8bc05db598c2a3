/**
 * The Node.js version check every binary runs first. It is its own entry
 * (`@kraken/service-kit/node-version`) and imports nothing but node:process, so that a
 * binary started on another Node.js says so in one line before it loads anything that
 * needs Node.js 24 (node:sqlite, for one) and would fail with a stack trace instead.
 */
import process from 'node:process';

export const REQUIRED_NODE_MAJOR = 24;

/** The one-line complaint about `version` (as in `process.version`), or undefined when it is supported. */
export function nodeVersionProblem(version: string): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (major === REQUIRED_NODE_MAJOR) return undefined;
  return `kraken: Node.js ${REQUIRED_NODE_MAJOR} is required, this is ${version}`;
}

/**
 * True when this Node.js is supported; otherwise writes the one line to stderr, sets exit
 * code 1 and returns false, so that main.ts loads the rest of the binary only on true.
 */
export function checkNodeVersion(version: string = process.version): boolean {
  const problem = nodeVersionProblem(version);
  if (problem === undefined) return true;
  process.stderr.write(`${problem}\n`);
  process.exitCode = 1;
  return false;
}
