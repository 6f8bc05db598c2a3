/**
 * A private containerd for e2e tests, driven through its CRI image service with crictl
 * and through its own API with ctr: Debian's /usr/bin/containerd (1.6) or the 2.x build of
 * `tools/install/go-tools.sh` (`.cache/bin/containerd2`), as a child process whose root,
 * state, gRPC socket, config.toml and registry hosts directory (`certs.d`, the CRI
 * `registry.config_path`) all sit in one temp directory.
 *
 * Only image pulls are wanted: the `native` snapshotter (which needs no overlayfs), no CNI
 * (CRI then reports the network as not ready, which pulls do not care about), and the
 * plugins that would touch host-wide paths (/opt/containerd, the NRI socket) pointed into
 * the temp directory or disabled. Needs root, as containerd does.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostPlatform } from './container-image.js';

export type ContainerdVersion = '1.6' | '2';

export interface ContainerdOptions {
  readonly version: ContainerdVersion;
  /**
   * TOML appended to the generated config.toml: tables that ours do not define, given the
   * temp directory and the hosts directory in case they are to be named there.
   */
  readonly extraConfig?: (layout: { readonly dir: string; readonly certsDir: string }) => string;
  /** How long to wait for the CRI image service (default 30 s). */
  readonly startTimeoutMs?: number;
}

export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
}

export interface CommandOptions {
  /** Default 60 s. */
  readonly timeoutMs?: number;
  /** Extra environment for the client. */
  readonly env?: Record<string, string>;
}

export interface Containerd {
  readonly version: ContainerdVersion;
  /** The temp directory holding everything below. */
  readonly dir: string;
  /** The gRPC socket (CRI and containerd API). */
  readonly socket: string;
  /** The config.toml containerd runs with. */
  readonly configToml: string;
  /** The CRI `registry.config_path`: one `<registry>/hosts.toml` per registry. */
  readonly certsDir: string;
  /** The snapshotter CRI unpacks into, and that `ctr` uses. */
  readonly snapshotter: string;
  /** The binary that runs, and its client `ctr` of the same version. */
  readonly binaries: { readonly containerd: string; readonly ctr: string };
  /** crictl with --runtime-endpoint/--image-endpoint on our socket; rejects on a non-zero exit. */
  crictl(args: readonly string[], options?: CommandOptions): Promise<CommandOutput>;
  /** ctr with --address on our socket and --namespace k8s.io (CRI's); rejects on a non-zero exit. */
  ctr(args: readonly string[], options?: CommandOptions & { namespace?: string }): Promise<CommandOutput>;
  /** containerd's log so far (debug level), for failure messages and for checks. */
  logs(): string;
  /** Kills containerd, unmounts whatever is left under its root, removes the temp directory. Idempotent. */
  stop(): Promise<void>;
}

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
/** CRI's namespace in containerd: images pulled through crictl live there. */
export const CRI_NAMESPACE = 'k8s.io';
const SNAPSHOTTER = 'native';
const LOG_LIMIT = 2 * 1024 * 1024;

export function containerdBinaries(version: ContainerdVersion): { containerd: string; ctr: string } {
  return version === '1.6'
    ? { containerd: '/usr/bin/containerd', ctr: '/usr/bin/ctr' }
    : { containerd: join(REPO, '.cache/bin/containerd2'), ctr: join(REPO, '.cache/bin/ctr2') };
}

export function crictlBinary(): string {
  return join(REPO, '.cache/bin/crictl');
}

export async function startContainerd(options: ContainerdOptions): Promise<Containerd> {
  const binaries = containerdBinaries(options.version);
  const install = options.version === '1.6' ? 'tools/install/debian-packages.sh' : 'containerd2';
  await requireBinary(binaries.containerd, install);
  await requireBinary(binaries.ctr, install);
  await requireBinary(crictlBinary(), 'crictl');

  // Short: the socket path must fit in sockaddr_un (108 bytes).
  const dir = await mkdtemp(join(tmpdir(), 'kraken-ctd-'));
  const paths = {
    root: join(dir, 'root'),
    state: join(dir, 'state'),
    socket: join(dir, 'containerd.sock'),
    certsDir: join(dir, 'certs.d'),
    configToml: join(dir, 'config.toml'),
    crictlYaml: join(dir, 'crictl.yaml'),
    opt: join(dir, 'opt'),
    cni: join(dir, 'cni'),
  };
  let child: ChildProcess | undefined;
  let log = '';
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (child !== undefined) await stopChild(child);
      await unmountUnder(dir);
      await rm(dir, { recursive: true, force: true });
    })());

  try {
    await mkdir(paths.certsDir, { recursive: true });
    await mkdir(join(paths.cni, 'conf'), { recursive: true });
    const toml =
      (options.version === '1.6' ? configV2(paths) : configV3(paths)) +
      (options.extraConfig?.({ dir, certsDir: paths.certsDir }) ?? '');
    await writeFile(paths.configToml, toml);
    // crictl reads /etc/crictl.yaml unless told otherwise; its flags below win over this file.
    await writeFile(
      paths.crictlYaml,
      `runtime-endpoint: unix://${paths.socket}\nimage-endpoint: unix://${paths.socket}\ntimeout: 30\n`,
    );

    child = spawn(binaries.containerd, ['--config', paths.configToml, '--log-level', 'debug'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.length > LOG_LIMIT) log = log.slice(-LOG_LIMIT / 2);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);

    const run = (file: string, args: readonly string[], opts: CommandOptions = {}) =>
      runClient({ file, args, timeoutMs: opts.timeoutMs ?? 60_000, env: opts.env, logs: () => log });
    const endpoints = [
      '--config',
      paths.crictlYaml,
      '--runtime-endpoint',
      `unix://${paths.socket}`,
      '--image-endpoint',
      `unix://${paths.socket}`,
    ];
    const containerd: Containerd = {
      version: options.version,
      dir,
      socket: paths.socket,
      configToml: paths.configToml,
      certsDir: paths.certsDir,
      snapshotter: SNAPSHOTTER,
      binaries,
      crictl: (args, opts) => run(crictlBinary(), [...endpoints, ...args], opts),
      ctr: (args, opts) =>
        run(
          binaries.ctr,
          ['--address', paths.socket, '--namespace', opts?.namespace ?? CRI_NAMESPACE, ...args],
          {
            ...opts,
            // ctr's image pull and its transfer-service request name the snapshotter from here.
            env: { CONTAINERD_SNAPSHOTTER: SNAPSHOTTER, ...opts?.env },
          },
        ),
      logs: () => log,
      stop,
    };
    await waitForImageService(containerd, child, options.startTimeoutMs ?? 30_000);
    return containerd;
  } catch (err) {
    await stop();
    throw new Error(`containerd ${options.version} did not start: ${(err as Error).message}\n${tail(log)}`, {
      cause: err,
    });
  }
}

interface ConfigPaths {
  readonly root: string;
  readonly state: string;
  readonly socket: string;
  readonly certsDir: string;
  readonly opt: string;
  readonly cni: string;
}

/**
 * Snapshotters that either need host support (btrfs, zfs, devmapper, aufs) or that we do
 * not use, so they log nothing on load; NRI would listen on a host-wide socket.
 */
const DISABLED_PLUGINS = [
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.zfs',
  'io.containerd.nri.v1.nri',
];

function common(paths: ConfigPaths, version: number): string {
  return [
    `version = ${version}`,
    `root = ${str(paths.root)}`,
    `state = ${str(paths.state)}`,
    `disabled_plugins = [${DISABLED_PLUGINS.map(str).join(', ')}]`,
    '',
    '[grpc]',
    `  address = ${str(paths.socket)}`,
    '',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${str(paths.opt)}`,
    '',
  ].join('\n');
}

/** containerd 1.x: config version 2, one CRI plugin. */
function configV2(paths: ConfigPaths): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return [
    common(paths, 2),
    `[${cri}]`,
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    `[${cri}.containerd]`,
    `  snapshotter = ${str(SNAPSHOTTER)}`,
    `[${cri}.cni]`,
    `  bin_dir = ${str(join(paths.cni, 'bin'))}`,
    `  conf_dir = ${str(join(paths.cni, 'conf'))}`,
    `[${cri}.registry]`,
    `  config_path = ${str(paths.certsDir)}`,
    '',
  ].join('\n');
}

/**
 * containerd 2.x: config version 3, CRI split into images, runtime and the gRPC service.
 * CRI pulls through the transfer service, which unpacks only for the platform and
 * snapshotter pairs in its unpack_config (overlayfs by default), so native is listed there.
 */
function configV3(paths: ConfigPaths): string {
  return [
    common(paths, 3),
    '[plugins."io.containerd.cri.v1.images"]',
    `  snapshotter = ${str(SNAPSHOTTER)}`,
    '[plugins."io.containerd.cri.v1.images".registry]',
    `  config_path = ${str(paths.certsDir)}`,
    '',
    '[plugins."io.containerd.cri.v1.runtime".cni]',
    `  bin_dirs = [${str(join(paths.cni, 'bin'))}]`,
    `  conf_dir = ${str(join(paths.cni, 'conf'))}`,
    '',
    '[plugins."io.containerd.grpc.v1.cri"]',
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    '',
    '[[plugins."io.containerd.transfer.v1.local".unpack_config]]',
    `  platform = ${str(`linux/${hostPlatform().architecture}`)}`,
    `  snapshotter = ${str(SNAPSHOTTER)}`,
    '',
  ].join('\n');
}

function str(value: string): string {
  return JSON.stringify(value);
}

async function requireBinary(path: string, install: string): Promise<void> {
  try {
    await access(path, constants.X_OK);
  } catch {
    const how = install.endsWith('.sh') ? `bash ${install}` : `bash tools/install/go-tools.sh ${install}`;
    throw new Error(`${path} is not installed: run \`${how}\``);
  }
}

/** CRI's image service answers once the CRI plugin has started; poll it with crictl. */
async function waitForImageService(
  containerd: Containerd,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`exited with ${child.exitCode ?? child.signalCode}`);
    try {
      await containerd.crictl(['--timeout', '2s', 'images'], { timeoutMs: 5000 });
      return;
    } catch (err) {
      last = (err as Error).message.split('\n')[0] ?? '';
    }
    if (Date.now() > deadline) throw new Error(`CRI image service not up after ${timeoutMs} ms: ${last}`);
    // Polling a child process is the one wait a test cannot fake.
    await new Promise((done) => setTimeout(done, 100));
  }
}

function runClient(options: {
  file: string;
  args: readonly string[];
  timeoutMs: number;
  env: Record<string, string> | undefined;
  logs: () => string;
}): Promise<CommandOutput> {
  const { file, args } = options;
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: options.timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...options.env } },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve({ stdout, stderr });
          return;
        }
        const command = [file.split('/').pop(), ...args].join(' ');
        reject(
          new Error(
            `${command} failed (${err.message.split('\n')[0]}):\n${stderr || stdout}\n` +
              `--- containerd log (tail) ---\n${tail(options.logs(), 40)}`,
          ),
        );
      },
    );
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Unmounts every mount point under `dir`, deepest first. containerd unmounts the temporary
 * mounts it makes while unpacking, but not when it dies in the middle of one.
 */
async function unmountUnder(dir: string): Promise<void> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const points = mountinfo
    .split('\n')
    // Field 5 is the mount point, with spaces and the like written as octal escapes.
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined)
    .map((point) =>
      point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))),
    )
    .filter((point) => point === dir || point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of points) {
    await new Promise<void>((done) => execFile('umount', ['--lazy', point], () => done()));
  }
}

function tail(text: string, lines = 60): string {
  return text.split('\n').slice(-lines).join('\n');
}
