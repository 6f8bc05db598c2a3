/** Runs the real skopeo client against plain-HTTP registries on loopback. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function skopeoCopy(source: string, destination: string, extra: string[] = []): Promise<void> {
  // Digests must survive the trip unchanged: no recompression, no manifest conversion.
  const preserve = ['--preserve-digests'];
  if (destination.startsWith('oci:')) preserve.push('--dest-oci-accept-uncompressed-layers');
  const args = [
    'copy',
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
    ...preserve,
    ...extra,
    source,
    destination,
  ];
  try {
    await run('skopeo', args, { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`skopeo ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}
