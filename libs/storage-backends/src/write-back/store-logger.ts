/**
 * The slice of a pino logger that the origin's background storage work (write-backs,
 * read-through fills) reports through. Declared here so this lib needs no logging
 * dependency; a pino `Logger` satisfies it as is.
 */
export interface StoreLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Drops everything; the default when no logger is injected. */
export const silentStoreLogger: StoreLogger = {
  info() {},
  warn() {},
  error() {},
};
