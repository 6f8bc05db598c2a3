/** Errors raised by service plumbing. */
import { KrakenError } from '@kraken/foundation';

/** A configuration file that is missing, unreadable, not YAML, or fails its schema. */
export class ConfigError extends KrakenError {
  constructor(message: string, detail?: unknown) {
    super('KRAKEN_CONFIG_INVALID', message, { detail });
  }
}
