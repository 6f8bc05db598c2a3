/**
 * Configuration of the agent binary. The schema lives in @kraken/component-configs, where
 * the operator validates the files it renders with it; the app keeps its local names.
 */
export {
  agentConfigSchema as configSchema,
  agentConfigReference as configReference,
} from '@kraken/component-configs';
export type { AgentConfig as Config } from '@kraken/component-configs';
