// `npm run image`: one OCI image holding every component, run as
// `<image> <component> --config <file>`. The command line: it builds the apps with Nx,
// then the image (image-build.mjs), reports the digest and size, and with --push copies
// the image to a registry with skopeo. See README.md in this folder.
import { execFileSync } from 'node:child_process';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildImage } from './image-build.mjs';
import { pushImage } from './registry-push.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

const USAGE = `Usage: npm run image -- [options]
       node tools/image/main.mjs [options]

Builds the apps and packs every component into one OCI image, tagged kraken:<version>:
an OCI image layout in <output>/oci, its SBOM in <output>/sbom.spdx.json and a summary
(digest, size, layers) in <output>/image.json. Needs umoci, dpkg and apt-get.

Options:
  --output <dir>   where to write (default dist/image)
  --push <ref>     then push it with skopeo, e.g. registry.example.com/kraken:0.1.0
  --insecure       with --push: plain HTTP or an unverified certificate (a local registry)
  --source <url>   the org.opencontainers.image.source label (default: package.json's
                   repository, else the git remote origin; none when neither exists)
  --no-build       use the apps as built already
  -h, --help       print this help and exit

The image runs one component: <image> agent --config /etc/kraken/agent.yaml
(tools/image/README.md: running it with containerd, what is inside).`;

function usageError(problem) {
  process.stderr.write(`image: ${problem} (see --help)\n`);
  process.exit(2);
}

let flags;
try {
  ({ values: flags } = parseArgs({
    options: {
      output: { type: 'string' },
      push: { type: 'string' },
      insecure: { type: 'boolean', default: false },
      source: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  // parseArgs (strict) throws on unknown flags, missing values and positionals.
  usageError(err.message.split(/\.(\s|$)/)[0].replace(/^./, (c) => c.toLowerCase()));
}
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
if (flags.insecure && flags.push === undefined) usageError('--insecure goes with --push');

try {
  if (!flags['no-build']) {
    execFileSync('nx', ['run-many', '-t', 'build', '-p', 'tag:type:app'], { cwd: root, stdio: 'inherit' });
  }
  const output = flags.output === undefined ? join(root, 'dist/image') : resolve(flags.output);
  const summary = await buildImage({ root, output, source: flags.source });
  report(summary, output);
  if (flags.push !== undefined) {
    const ref = pushImage({
      layout: summary.layout,
      tag: summary.reference,
      destination: flags.push,
      insecure: flags.insecure,
    });
    console.log(`pushed ${ref}@${summary.digest}`);
  }
} catch (err) {
  process.stderr.write(`image: ${err.message}\n`);
  process.exit(1);
}

function report(summary, output) {
  const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
  console.log(`${summary.reference} ${summary.digest}`);
  console.log(
    `  compressed size ${mb(summary.size)} (${summary.size} bytes) in ${summary.layers.length} layers:`,
  );
  for (const layer of summary.layers) console.log(`    ${mb(layer.size).padStart(8)}  ${layer.content}`);
  const layout = shortPath(summary.layout);
  console.log(
    `  layout  ${layout} (skopeo copy oci:${layout}:${summary.reference} docker://<registry>/kraken:${summary.version})`,
  );
  console.log(`  sbom    ${shortPath(join(output, 'sbom.spdx.json'))}`);
}

/** Relative to the working directory when inside it. */
function shortPath(path) {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') ? path : rel;
}
