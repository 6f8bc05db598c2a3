/**
 * The control plane's programs: the pinned builds that `tools/install/go-tools.sh` links into
 * `<repo>/.cache/bin` (kube-apiserver, kube-controller-manager, kube-scheduler and kubectl from
 * its `kube` entry, `etcd`, `kwok`), never whatever else is on PATH. A missing one is an error
 * that says how to build them: these tests never skip themselves.
 */
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type KubeBinary =
  'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubectl' | 'kwok';

const ALL: readonly KubeBinary[] = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'kwok',
];
const BIN = fileURLToPath(new URL('../../../../.cache/bin/', import.meta.url));
export const INSTALL_COMMAND = 'bash tools/install/go-tools.sh kube etcd kwok';

export function kubeBinary(name: KubeBinary): string {
  return join(BIN, name);
}

/** Rejects naming every missing binary and the command that builds them. */
export async function requireKubeBinaries(): Promise<void> {
  const missing: string[] = [];
  for (const name of ALL) {
    try {
      await access(kubeBinary(name), constants.X_OK);
    } catch {
      missing.push(name);
    }
  }
  if (missing.length > 0)
    throw new Error(`${missing.join(', ')} not installed in ${BIN}: run \`${INSTALL_COMMAND}\``);
}
