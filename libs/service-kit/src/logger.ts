/** pino JSON logger factory; every component logs through one of these. */
import { pino, type Logger } from 'pino';
import type { LoggingConfig } from './config/service-config.js';

export type { Logger };

export function createLogger(component: string, config: LoggingConfig = { level: 'info' }): Logger {
  return pino({ name: `kraken-${component}`, level: config.level, base: { component } });
}

/** A logger that drops everything, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
