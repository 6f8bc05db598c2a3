/** The narrow slice of a pino logger the ring's background loops write to. */
export interface RingLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export const noopLogger: RingLogger = { info: () => {}, warn: () => {} };
