/**
 * The `kraken.dev/config-hash` pod annotation: a sha256 over a component's rendered
 * ConfigMap data and the names of the Secrets its pods use. The config file is mounted
 * with subPath, and the components read it once, so a changed file must replace the
 * pods; hashing per component rolls exactly the pods whose file or Secrets changed.
 * Secret contents are not hashed: the components reload rotated certificates and files
 * themselves.
 */
import { createHash } from 'node:crypto';

export function configHash(data: Readonly<Record<string, string>>, secretNames: readonly string[]): string {
  const canonical = JSON.stringify({
    data: Object.keys(data)
      .sort()
      .map((key) => [key, data[key]]),
    secrets: [...new Set(secretNames)].sort(),
  });
  return createHash('sha256').update(canonical).digest('hex');
}
