/** Looking up rendered objects in tests, typed as the Kubernetes model the caller names. */
import type { RenderedObject } from '../render/object-meta.js';

export function findObject<T>(objects: readonly RenderedObject[], kind: string, name: string): T {
  const object = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (object === undefined) throw new Error(`no ${kind} ${name} among the rendered objects`);
  return object as T;
}
