/**
 * `kraken agent setup-containerd`: points containerd at the agent by writing one
 * hosts.toml per registry under containerd's config_path, and undoes it with `--remove`.
 * containerd reads hosts.toml on every pull, so nothing is restarted. Before writing, it
 * checks containerd's config.toml, since without config_path (or with legacy inline
 * mirrors) the files would silently have no effect. The operator's DaemonSet runs this
 * as an init container; a second run changes nothing.
 *
 * `run(argv)` takes the arguments after the subcommand name and returns the exit code.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isKrakenError } from '@kraken/foundation';
import {
  applyAction,
  describeAction,
  planConfigDir,
  planInstall,
  planRemove,
  type HostsAction,
} from './backup.js';
import { checkContainerdConfig } from './containerd-config.js';
import { SetupUsageError } from './errors.js';
import { renderHostsToml, validateMirrorUrl, validateRegistryName } from './hosts-toml.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_CONFIG_PATH_UNSET = 3;
export const EXIT_LEGACY_MIRRORS = 4;

/** One line for the agent's `--help`. */
export { SUMMARY } from './setup-containerd-summary.js';

export const USAGE = `Usage: kraken agent setup-containerd [flags]

Writes <config-path>/<registry>/hosts.toml so that containerd pulls through the agent
first and falls back to the registry itself. Never restarts containerd.

Flags:
  --config-path <dir>         containerd's hosts directory (default /etc/containerd/certs.d)
  --mirror <url>              the agent's registry URL (default http://127.0.0.1:16000)
  --registries <list>         comma-separated registries, _default for all others (default docker.io);
                              name=<url> sets the registry's own server, e.g. docker.io=http://10.0.0.5:5000
  --containerd-config <file>  containerd's config.toml to check (default /etc/containerd/config.toml)
  --skip-config-check         do not read containerd's config.toml
  --remove                    restore what was there before, delete what we wrote
  --dry-run                   print what would change, change nothing
  --help                      show this help

Exit codes: 0 done (or nothing to change), 1 failed, 2 bad usage,
3 config_path not set in config.toml, 4 legacy registry mirrors in config.toml.
`;

export interface SetupContainerdOptions {
  readonly configPath: string;
  readonly mirror: string;
  readonly registries: readonly string[];
  /** Registries given as `name=<url>`: the `server` to write instead of the derived one. */
  readonly servers: Readonly<Record<string, string>>;
  /** undefined: skip the config.toml check. */
  readonly containerdConfig: string | undefined;
  readonly remove: boolean;
  readonly dryRun: boolean;
}

export interface CommandOutput {
  readonly stdout: Pick<NodeJS.WritableStream, 'write'>;
  readonly stderr: Pick<NodeJS.WritableStream, 'write'>;
}

const processOutput: CommandOutput = { stdout: process.stdout, stderr: process.stderr };

/** Parses the flags; returns 'help' for `--help`. Throws SetupUsageError on anything else amiss. */
export function parseSetupContainerdArgs(argv: readonly string[]): SetupContainerdOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        'config-path': { type: 'string', default: '/etc/containerd/certs.d' },
        mirror: { type: 'string', default: 'http://127.0.0.1:16000' },
        registries: { type: 'string', default: 'docker.io' },
        'containerd-config': { type: 'string', default: '/etc/containerd/config.toml' },
        'skip-config-check': { type: 'boolean', default: false },
        remove: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new SetupUsageError((err as Error).message);
  }
  if (values.help) return 'help';
  if (values['config-path'] === '') throw new SetupUsageError('--config-path must not be empty');
  const servers: Record<string, string> = {};
  const registries = values.registries.split(',').map((entry) => {
    const [name = '', server] = entry.trim().split(/=(.*)/s);
    const registry = validateRegistryName(name);
    if (server !== undefined) servers[registry] = validateMirrorUrl(server, `server for ${registry}`);
    return registry;
  });
  return {
    configPath: values['config-path'],
    mirror: validateMirrorUrl(values.mirror),
    registries: [...new Set(registries)],
    servers,
    containerdConfig: values['skip-config-check'] ? undefined : values['containerd-config'],
    remove: values.remove,
    dryRun: values['dry-run'],
  };
}

/** The actions the options call for, in the order they must be applied. */
export async function planSetupContainerd(options: SetupContainerdOptions): Promise<HostsAction[]> {
  const actions: HostsAction[] = [];
  if (!options.remove) {
    actions.push(...(await planConfigDir(options.configPath)));
    for (const registry of options.registries) {
      const content = renderHostsToml({
        registry,
        mirror: options.mirror,
        server: options.servers[registry],
      });
      actions.push(...(await planInstall(join(options.configPath, registry), content)));
    }
    return actions;
  }
  const gone = new Set<string>();
  for (const registry of options.registries) {
    const plan = await planRemove(join(options.configPath, registry));
    actions.push(...plan.actions);
    if (plan.removesDir) gone.add(registry);
  }
  // The config_path directory itself goes too if we created it and emptied it.
  const root = await planRemove(options.configPath, gone);
  actions.push(...root.actions.filter((action) => action.kind === 'remove-dir'));
  return actions;
}

export async function run(argv: readonly string[], output: CommandOutput = processOutput): Promise<number> {
  try {
    const options = parseSetupContainerdArgs(argv);
    if (options === 'help') {
      output.stdout.write(USAGE);
      return EXIT_OK;
    }
    if (options.containerdConfig !== undefined && !options.remove) {
      const config = await checkContainerdConfig(options.containerdConfig);
      if (config.version === 3) {
        // The transfer service (ctr 2.x) reads hosts.toml only where its client points it.
        output.stderr.write(
          `setup-containerd: note: kubelet's pulls (CRI) use these files; \`ctr image pull\` on containerd 2.x ` +
            `uses them only with --hosts-dir ${options.configPath}\n`,
        );
      }
      if (!config.configPaths.includes(options.configPath)) {
        output.stderr.write(
          `setup-containerd: note: containerd reads hosts from ${config.configPaths.join(':')}; ` +
            `writing to ${options.configPath} (fine if that is the same directory mounted elsewhere)\n`,
        );
      }
    }
    const actions = await planSetupContainerd(options);
    if (actions.length === 0) {
      output.stdout.write('setup-containerd: nothing to change\n');
      return EXIT_OK;
    }
    for (const action of actions) {
      if (!options.dryRun) await applyAction(action);
      output.stdout.write(`setup-containerd: ${options.dryRun ? 'would ' : ''}${describeAction(action)}\n`);
    }
    return EXIT_OK;
  } catch (err) {
    output.stderr.write(`setup-containerd: ${(err as Error).message}\n`);
    return exitCodeOf(err);
  }
}

function exitCodeOf(err: unknown): number {
  if (isKrakenError(err, 'KRAKEN_CONTAINERD_SETUP_USAGE')) return EXIT_USAGE;
  if (isKrakenError(err, 'KRAKEN_CONTAINERD_CONFIG_PATH_UNSET')) return EXIT_CONFIG_PATH_UNSET;
  if (isKrakenError(err, 'KRAKEN_CONTAINERD_LEGACY_MIRRORS')) return EXIT_LEGACY_MIRRORS;
  return EXIT_FAILED;
}
