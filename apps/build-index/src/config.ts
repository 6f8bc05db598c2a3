/**
 * Configuration of the build-index binary. The schema lives in @kraken/component-configs, where
 * the operator validates the files it renders with it; the app keeps its local names.
 */
export {
  buildIndexConfigSchema as configSchema,
  buildIndexConfigReference as configReference,
} from '@kraken/component-configs';
export type { BuildIndexConfig as Config } from '@kraken/component-configs';
