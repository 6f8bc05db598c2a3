/**
 * Configuration of the tracker binary. The schema lives in @kraken/component-configs, where
 * the operator validates the files it renders with it; the app keeps its local names.
 */
export {
  trackerConfigSchema as configSchema,
  trackerConfigReference as configReference,
} from '@kraken/component-configs';
export type { TrackerConfig as Config } from '@kraken/component-configs';
