/**
 * The one base class of every typed error in the project: a stable code from the
 * catalogue (error-catalogue.ts), an optional HTTP status, a JSON-safe `detail` and an
 * optional cause. Libraries subclass it in their own `errors.ts`; each code belongs to
 * exactly one class (tools/check-error-codes.mjs checks it).
 */
import type { ErrorCode } from './error-catalogue.js';

export interface KrakenErrorOptions {
  readonly statusCode?: number;
  readonly cause?: unknown;
  /** JSON-safe facts about the failure; servers put it in the error body as is. */
  readonly detail?: unknown;
}

export class KrakenError extends Error {
  /** A catalogue code, or (on RemoteApiError only) whatever code a remote answered with. */
  readonly code: string;
  readonly statusCode: number | undefined;
  readonly detail: unknown;

  constructor(code: ErrorCode, message: string, options: KrakenErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.statusCode = options.statusCode;
    this.detail = options.detail;
  }
}

/** True when `err` is a KrakenError with one of `codes` (any code when none are given). */
export function isKrakenError(err: unknown, ...codes: ErrorCode[]): err is KrakenError {
  return err instanceof KrakenError && (codes.length === 0 || (codes as string[]).includes(err.code));
}
