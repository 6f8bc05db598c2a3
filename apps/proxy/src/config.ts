/**
 * Configuration of the proxy binary. The schema lives in @kraken/component-configs, where
 * the operator validates the files it renders with it; the app keeps its local names.
 */
export {
  proxyConfigSchema as configSchema,
  proxyConfigReference as configReference,
} from '@kraken/component-configs';
export type { ProxyConfig as Config } from '@kraken/component-configs';
