/**
 * The ConfigMap of each component: its config files as YAML, one per ring member for
 * the origins and build-index (`<pod>.yaml`, each names itself), one file otherwise
 * (`<component>.yaml`). Keys are sorted at every level, so the same spec renders the
 * same bytes and the config hash moves only when a value does.
 */
import { stringify } from 'yaml';
import { configMapName, type Component } from './component-names.js';
import { objectMeta, type Owner, type RenderedConfigMap } from './object-meta.js';

export function configYaml(config: unknown): string {
  return stringify(config, { sortMapEntries: true, lineWidth: 0 });
}

export function configMap(
  owner: Owner,
  component: Component,
  files: Readonly<Record<string, unknown>>,
): RenderedConfigMap {
  const data = Object.fromEntries(
    Object.keys(files)
      .sort()
      .map((key) => [key, configYaml(files[key])]),
  );
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMeta(owner, component, configMapName(owner, component)),
    data,
  };
}
