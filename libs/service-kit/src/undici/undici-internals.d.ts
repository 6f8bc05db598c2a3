/**
 * Types of the undici modules that lean-undici.ts loads by path: undici ships types for its
 * package index only. Each is the CommonJS `module.exports` of that file (undici 7.x).
 */
declare module 'undici/lib/dispatcher/dispatcher.js' {
  import type { Dispatcher } from 'undici';
  const value: typeof Dispatcher;
  export default value;
}

declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';
  const value: typeof Pool;
  export default value;
}

declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici';
  const value: typeof Agent;
  export default value;
}

declare module 'undici/lib/core/connect.js' {
  import type { buildConnector } from 'undici';
  const value: typeof buildConnector;
  export default value;
}

declare module 'undici/lib/core/errors.js' {
  import type { errors } from 'undici';
  const value: typeof errors;
  export default value;
}

declare module 'undici/lib/core/util.js' {
  const value: {
    parseURL(url: unknown): URL;
    parseOrigin(url: unknown): URL;
  };
  export default value;
}

declare module 'undici/lib/global.js' {
  import type { getGlobalDispatcher } from 'undici';
  const value: { getGlobalDispatcher: typeof getGlobalDispatcher };
  export default value;
}

declare module 'undici/lib/api/index.js' {
  /** The methods undici's index mixes into Dispatcher.prototype; each is called on a dispatcher. */
  type DispatcherMethod = (this: object, opts: object, callback?: unknown) => unknown;
  const value: Record<'request' | 'stream' | 'pipeline' | 'upgrade' | 'connect', DispatcherMethod>;
  export default value;
}
