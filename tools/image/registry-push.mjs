// Pushes the image from its layout to a registry with skopeo, which reads the registry
// credentials from the usual containers auth files (skopeo login, REGISTRY_AUTH_FILE).
import { execFileSync } from 'node:child_process';

/** `insecure`: plain HTTP or an unverified certificate, as for a local test registry. */
export function pushImage({ layout, tag, destination, insecure }) {
  const ref = destination.replace(/^docker:\/\//, '');
  execFileSync(
    'skopeo',
    [
      'copy',
      // The registry gets the very blobs and manifest built here, so the digest stays.
      '--preserve-digests',
      ...(insecure ? ['--dest-tls-verify=false'] : []),
      `oci:${layout}:${tag}`,
      `docker://${ref}`,
    ],
    { stdio: 'inherit' },
  );
  return ref;
}
