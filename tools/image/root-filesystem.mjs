// The image's files, staged as one directory per layer before umoci packs them: the
// account and name-service files, the Node.js binary, the apps and the kraken front laid
// out as in the repository (so the front finds apps/<component>/dist unchanged), and the
// normalisation that makes a layer depend on file contents only.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

export const USER = { name: 'kraken', uid: 65532, gid: 65532, home: '/var/lib/kraken' };
export const APP_DIR = '/opt/kraken';
export const SBOM_PATH = '/usr/share/kraken/sbom.spdx.json';
export const FRONT = `${APP_DIR}/tools/kraken/kraken.mjs`;
const LAUNCHER = '/usr/bin/kraken';

/**
 * Accounts, name service and the directories other layers fill. Without nsswitch.conf
 * glibc asks DNS before /etc/hosts, so `localhost` would not resolve; the hosts file is
 * for runtimes that do not mount their own (runc, ctr without --net-host).
 */
export function stageSystemFiles(rootfs) {
  const write = (path, text) => {
    mkdirSync(dirname(join(rootfs, path)), { recursive: true });
    writeFileSync(join(rootfs, path), text);
  };
  write(
    'etc/passwd',
    `root:x:0:0:root:/root:/usr/sbin/nologin\n` +
      `${USER.name}:x:${USER.uid}:${USER.gid}:${USER.name}:${USER.home}:/usr/sbin/nologin\n`,
  );
  write('etc/group', `root:x:0:\n${USER.name}:x:${USER.gid}:\n`);
  write('etc/hosts', '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n');
  write('etc/nsswitch.conf', 'passwd: files\ngroup: files\nhosts: files dns\nnetworks: files\n');
  for (const dir of ['tmp', 'usr/bin', 'var/lib', `${APP_DIR.slice(1)}/apps`, dirname(SBOM_PATH).slice(1)]) {
    mkdirSync(join(rootfs, dir), { recursive: true });
  }
}

/**
 * /usr/bin/node: the ELF binary behind the repository's node_modules/.bin/node, whole (its
 * checksum stays the upstream one). Returns its version and SHA-256 for the SBOM.
 */
export function stageNode(root, rootfs) {
  const binary = realpathSync(join(root, 'node_modules/.bin/node'));
  const bytes = readFileSync(binary);
  if (!bytes.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
    throw new Error(`${binary} is not an ELF binary`);
  }
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim().replace(/^v/, '');
  mkdirSync(join(rootfs, 'usr/bin'), { recursive: true });
  copyFileSync(binary, join(rootfs, 'usr/bin/node'));
  return { version, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * The built apps (without source maps, which nothing reads without --enable-source-maps),
 * the front, and /usr/bin/kraken to start it by name where a command replaces the entry
 * point (`ctr run <image> <id> kraken agent ...`, `kubectl exec`). The launcher is an ES
 * module by its syntax: no package.json governs /usr/bin.
 */
export function stageApps(root, rootfs) {
  const appDir = join(rootfs, APP_DIR);
  const components = readdirSync(join(root, 'apps')).sort();
  for (const component of components) {
    const dist = join(root, 'apps', component, 'dist');
    if (!existsSync(join(dist, 'main.js'))) {
      throw new Error(`apps/${component} is not built; run: npx nx run-many -t build -p tag:type:app`);
    }
    cpSync(dist, join(appDir, 'apps', component, 'dist'), {
      recursive: true,
      filter: (path) => !path.endsWith('.map'),
    });
  }
  for (const file of ['tools/kraken/kraken.mjs', 'tools/build-info.mjs']) {
    mkdirSync(dirname(join(appDir, file)), { recursive: true });
    copyFileSync(join(root, file), join(appDir, file));
  }
  mkdirSync(join(rootfs, 'usr/bin'), { recursive: true });
  writeFileSync(
    join(rootfs, LAUNCHER),
    `#!/usr/bin/node\n// kraken <component> [args]\nawait import('${FRONT}');\n`,
    { mode: 0o755 },
  );
  return components;
}

/** Source maps and type declarations: a third of the packages' size, never loaded at run time. */
export function trimNodeModules(dir) {
  const unused = /\.(map|d\.ts|d\.mts|d\.cts)$/;
  for (const path of readdirSync(dir, { recursive: true })) {
    if (unused.test(path) && lstatSync(join(dir, path)).isFile()) rmSync(join(dir, path));
  }
  // npm's own cache of the tree; the lockfile beside node_modules says the same.
  rmSync(join(dir, '.package-lock.json'), { force: true });
}

/**
 * Every entry under `dir` gets the build's time and a mode that depends only on its kind:
 * 0755 for directories and executables, 0644 for other files (1777 for /tmp). Owners are
 * set by umoci's id mapping when the layer is packed.
 */
export function normalise(dir, epoch) {
  const visit = (path) => {
    const stat = lstatSync(path);
    if (stat.isDirectory()) {
      for (const name of readdirSync(path)) visit(join(path, name));
      chmodSync(path, path === join(dir, 'tmp') ? 0o1777 : 0o755);
    } else if (stat.isFile()) {
      chmodSync(path, stat.mode & 0o111 ? 0o755 : 0o644);
    } else if (!stat.isSymbolicLink()) {
      throw new Error(`${path}: only files, directories and symbolic links belong in the image`);
    }
    lutimesSync(path, epoch, epoch);
  };
  visit(dir);
}
