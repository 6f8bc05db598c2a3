// The Debian packages inside the image: the system libraries the Node.js binary links
// against and the CA certificates for https upstreams. They come from the archive at the
// versions installed on this machine (the libraries that Node.js was tested with here), as
// .deb files that apt verifies, unpacked with dpkg-deb, then trimmed of what a container
// running one Node.js process never reads.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The libraries the Node.js binary links against, with what they depend on (libgcc-s1 and
// gcc-<n>-base, which holds their copyright file). ca-certificates alone: its dependencies
// serve its update script, which the image leaves out.
const LIBRARIES = ['libc6', 'libstdc++6'];
const DATA = ['ca-certificates'];

// Manuals, lintian overrides, debugger helpers and the certificate update script (the
// bundle is written here instead). Of the documentation, the copyright files stay; of the
// libraries, glibc's iconv modules go (Node.js converts text with ICU).
const TRIMMED = ['usr/share/man', 'usr/share/lintian', 'usr/share/gcc', 'usr/share/gdb', 'usr/sbin'];

export function debianArchitecture() {
  return execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
}

/** The installed packages to put in the image (name, version, architecture), sorted by name. */
export function installedPackages() {
  const found = new Map();
  const add = (name, withDependencies) => {
    if (found.has(name)) return;
    const pkg = installed(name);
    found.set(name, pkg);
    if (withDependencies) for (const dep of pkg.depends) add(dep, true);
  };
  for (const name of LIBRARIES) add(name, true);
  for (const name of DATA) add(name, false);
  return [...found.values()]
    .map(({ name, architecture, version }) => ({ name, architecture, version }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

function installed(name) {
  const native = debianArchitecture();
  let out;
  try {
    out = execFileSync(
      'dpkg-query',
      ['-W', '-f', '${Architecture}\\t${Version}\\t${Status}\\t${Pre-Depends}, ${Depends}\\n', name],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
  } catch {
    throw new Error(`${name} is not installed on this machine (apt-get install ${name})`);
  }
  const row = out
    .split('\n')
    .map((line) => line.split('\t'))
    .find(([arch, , status]) => (arch === native || arch === 'all') && status === 'install ok installed');
  if (row === undefined) throw new Error(`${name} is not installed for ${native}`);
  const [architecture, version, , depends] = row;
  // "gcc-12-base (= 12.2.0-14), libc6 (>= 2.35) | libc6.1": the first of each alternative.
  const names = depends
    .split(',')
    .map(
      (dep) =>
        dep
          .split('|')[0]
          .trim()
          .split(/[\s:(]/)[0],
    )
    .filter((dep) => dep !== '');
  return { name, architecture, version, depends: names };
}

/**
 * The .deb of each package, from `cacheDir` when an earlier build fetched it, else
 * through `apt-get download` (which checks it against the signed package lists). The
 * archive keeps only the newest version of a package, so a machine that has not upgraded
 * since gets the archive's version instead, with a note.
 */
export function downloadPackages(packages, cacheDir) {
  mkdirSync(cacheDir, { recursive: true });
  return packages.map((installed) => {
    let pkg = installed;
    let failure = fetchDeb(pkg, cacheDir);
    if (failure !== undefined) {
      const candidate = candidateVersion(pkg);
      if (candidate === undefined || candidate === pkg.version) {
        throw new Error(
          `apt-get download ${pkg.name}=${pkg.version} failed (run apt-get update): ${failure}`,
        );
      }
      process.stderr.write(
        `image: note: ${pkg.name} ${pkg.version} is installed but not in the archive; the image gets ${candidate}\n`,
      );
      pkg = { ...pkg, version: candidate };
      failure = fetchDeb(pkg, cacheDir);
      if (failure !== undefined) {
        throw new Error(`apt-get download ${pkg.name}=${candidate} failed: ${failure}`);
      }
    }
    const file = debPath(pkg, cacheDir);
    const [name, version] = execFileSync('dpkg-deb', ['--field', file, 'Package', 'Version'], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .map((row) => row.replace(/^\w+: /, ''));
    if (name !== pkg.name || version !== pkg.version) {
      throw new Error(`${file} is not ${pkg.name} ${pkg.version}`);
    }
    return { ...pkg, file, sha256: createHash('sha256').update(readFileSync(file)).digest('hex') };
  });
}

function debPath(pkg, cacheDir) {
  return join(cacheDir, `${pkg.name}_${pkg.version.replace(':', '%3a')}_${pkg.architecture}.deb`);
}

const qualified = (pkg) => (pkg.architecture === 'all' ? pkg.name : `${pkg.name}:${pkg.architecture}`);

/** Undefined when the .deb is in the cache or was downloaded into it, else apt's complaint. */
function fetchDeb(pkg, cacheDir) {
  if (existsSync(debPath(pkg, cacheDir))) return undefined;
  try {
    execFileSync('apt-get', ['download', `${qualified(pkg)}=${pkg.version}`], {
      cwd: cacheDir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return undefined;
  } catch (err) {
    return String(err.stderr ?? err.message).trim();
  }
}

function candidateVersion(pkg) {
  const policy = execFileSync('apt-cache', ['policy', qualified(pkg)], { encoding: 'utf8' });
  const candidate = /^\s*Candidate: (\S+)/m.exec(policy)?.[1];
  return candidate === undefined || candidate === '(none)' ? undefined : candidate;
}

/**
 * Unpacks the packages into `rootfs`, trims them, records each one's control file under
 * /var/lib/dpkg/status.d/ (where image scanners look for packages when there is no dpkg
 * database) and writes the CA bundle that ca-certificates' postinst would have written.
 */
export function unpackPackages(debs, rootfs) {
  for (const deb of debs) execFileSync('dpkg-deb', ['--extract', deb.file, rootfs]);
  for (const path of TRIMMED) rmSync(join(rootfs, path), { recursive: true, force: true });
  rmSync(join(rootfs, multiarchLibDir(rootfs), 'gconv'), { recursive: true, force: true });
  const docs = join(rootfs, 'usr/share/doc');
  for (const pkg of readdirSync(docs)) {
    // Some packages link their doc directory to that of the package holding the copyright.
    if (!lstatSync(join(docs, pkg)).isDirectory()) continue;
    for (const entry of readdirSync(join(docs, pkg))) {
      if (entry !== 'copyright') rmSync(join(docs, pkg, entry), { recursive: true, force: true });
    }
  }
  const status = join(rootfs, 'var/lib/dpkg/status.d');
  mkdirSync(status, { recursive: true });
  for (const deb of debs) {
    const control = execFileSync('dpkg-deb', ['--field', deb.file], { encoding: 'utf8' });
    writeFileSync(join(status, deb.name), control.endsWith('\n') ? control : `${control}\n`);
  }
  writeCaBundle(rootfs);
}

function multiarchLibDir(rootfs) {
  const multiarch = readdirSync(join(rootfs, 'usr/lib')).find((name) => name.endsWith('-linux-gnu'));
  return `usr/lib/${multiarch}`;
}

/** /etc/ssl/certs/ca-certificates.crt: every certificate of the package, in name order. */
function writeCaBundle(rootfs) {
  const dir = join(rootfs, 'usr/share/ca-certificates');
  const certs = readdirSync(dir, { recursive: true })
    .filter((path) => path.endsWith('.crt'))
    .sort();
  if (certs.length === 0) throw new Error('ca-certificates holds no certificates');
  const bundle = certs
    .map((path) => readFileSync(join(dir, path), 'utf8'))
    .map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`))
    .join('');
  mkdirSync(join(rootfs, 'etc/ssl/certs'), { recursive: true });
  writeFileSync(join(rootfs, 'etc/ssl/certs/ca-certificates.crt'), bundle);
}

/** This machine's Debian release (ID and VERSION_ID of os-release), which the packages came from. */
export function debianRelease() {
  const fields = Object.fromEntries(
    readFileSync('/etc/os-release', 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => {
        const at = line.indexOf('=');
        return [line.slice(0, at), line.slice(at + 1).replace(/^"(.*)"$/, '$1')];
      }),
  );
  return { id: fields.ID ?? 'debian', versionId: fields.VERSION_ID ?? 'unknown' };
}
