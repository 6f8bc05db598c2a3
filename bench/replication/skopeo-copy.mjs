// The real skopeo client against plain-HTTP registries on loopback, timed. Digests must survive
// the trip unchanged (no recompression, no manifest conversion): --preserve-digests.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `skopeo copy source destination`; resolves with the milliseconds it took. */
export async function skopeoCopy(source, destination) {
  const args = [
    'copy',
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
    '--preserve-digests',
    source,
    destination,
  ];
  const started = performance.now();
  try {
    await run('skopeo', args, { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });
  } catch (err) {
    throw new Error(`skopeo ${args.join(' ')} failed: ${err.stderr || err.message}`);
  }
  return performance.now() - started;
}

/** host:port of a URL, as docker:// references want it. */
export const hostOf = (url) => new URL(url).host;
