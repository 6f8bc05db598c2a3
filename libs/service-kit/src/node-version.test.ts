import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkNodeVersion, nodeVersionProblem } from './node-version.js';

describe('nodeVersionProblem', () => {
  it('accepts Node.js 24 only', () => {
    expect(nodeVersionProblem('v24.0.0')).toBeUndefined();
    expect(nodeVersionProblem('v24.21.3')).toBeUndefined();
    expect(nodeVersionProblem('v20.11.1')).toBe('kraken: Node.js 24 is required, this is v20.11.1');
    expect(nodeVersionProblem('v25.0.0')).toBe('kraken: Node.js 24 is required, this is v25.0.0');
    expect(nodeVersionProblem('garbage')).toBe('kraken: Node.js 24 is required, this is garbage');
  });
});

describe('checkNodeVersion', () => {
  const exitCode = process.exitCode;
  afterEach(() => {
    process.exitCode = exitCode;
    vi.restoreAllMocks();
  });

  it('passes on this Node.js', () => {
    expect(checkNodeVersion()).toBe(true);
  });

  it('writes one line and sets exit code 1 on another', () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(checkNodeVersion('v20.19.0')).toBe(false);
    expect(stderr).toHaveBeenCalledExactlyOnceWith('kraken: Node.js 24 is required, this is v20.19.0\n');
    expect(process.exitCode).toBe(1);
  });
});
