/**
 * @kraken/component-configs: the config file schema of each component binary (agent,
 * origin, tracker, build-index, proxy), assembled from the domain and core libs' schemas.
 * Each app parses its YAML with its schema here; the operator renders the same files and
 * validates them with the same schemas, and the config reference docs are generated from
 * them. Each schema comes with the title and intro of its docs/config/<app>.md.
 */
export { agentConfigReference, agentConfigSchema } from './agent-config.js';
export { buildIndexConfigReference, buildIndexConfigSchema } from './build-index-config.js';
export { originConfigReference, originConfigSchema } from './origin-config.js';
export { proxyConfigReference, proxyConfigSchema } from './proxy-config.js';
export { trackerConfigReference, trackerConfigSchema } from './tracker-config.js';
export type { AgentConfig } from './agent-config.js';
export type { AgentMirrorConfig } from './agent-mirror-config.js';
export type { BuildIndexConfig } from './build-index-config.js';
export type { OriginConfig } from './origin-config.js';
export type { ProxyConfig } from './proxy-config.js';
export type { TrackerConfig } from './tracker-config.js';
