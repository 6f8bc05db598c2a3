/**
 * Configuration of the origin binary. The schema lives in @kraken/component-configs, where
 * the operator validates the files it renders with it; the app keeps its local names.
 */
export {
  originConfigSchema as configSchema,
  originConfigReference as configReference,
} from '@kraken/component-configs';
export type { OriginConfig as Config } from '@kraken/component-configs';
