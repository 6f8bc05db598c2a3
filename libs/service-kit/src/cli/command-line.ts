/**
 * The command line every component binary shares: `--config <file>`, `--help`,
 * `--version` and the component's subcommands. Parsing is strict (node:util parseArgs):
 * an unknown flag, a flag without its value or a stray argument is a usage error, which
 * the binary reports in one line and exits 2 on, the way people expect of a CLI.
 */
import { parseArgs } from 'node:util';

/** A command a binary runs instead of its service, such as `kraken agent setup-containerd`. */
export interface Subcommand {
  /** One line for `--help`. */
  summary: string;
  /** Runs with the arguments after the subcommand's name (it parses its own flags) and resolves with the exit code. */
  run(argv: readonly string[]): number | Promise<number>;
}

export type CommandLine =
  | { kind: 'serve'; configPath: string | undefined }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'subcommand'; name: string; argv: readonly string[] }
  | { kind: 'usage-error'; problem: string };

export function parseCommandLine(
  argv: readonly string[],
  subcommands: Readonly<Record<string, Subcommand>> = {},
): CommandLine {
  const [first, ...rest] = argv;
  if (first !== undefined && Object.hasOwn(subcommands, first)) {
    return { kind: 'subcommand', name: first, argv: rest };
  }
  let values: { config?: string | undefined; help?: boolean | undefined; version?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    }));
  } catch (err) {
    return { kind: 'usage-error', problem: usageProblem(err) };
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  return { kind: 'serve', configPath: values.config };
}

/** parseArgs explains itself in several sentences; the first, lower-cased, is the problem. */
function usageProblem(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const first = message.split(/\.(\s|$)/)[0] ?? message;
  return first.charAt(0).toLowerCase() + first.slice(1);
}

export interface UsageOptions {
  component: string;
  summary: string;
  subcommands?: Readonly<Record<string, Subcommand>>;
}

/** The text of `kraken <component> --help`. */
export function renderUsage(options: UsageOptions): string {
  const { component, summary } = options;
  const commands = Object.entries(options.subcommands ?? {});
  const lines = [`kraken ${component}: ${summary}`, '', `Usage: kraken ${component} [--config <file>]`];
  if (commands.length > 0) {
    lines.push(`       kraken ${component} <command> [args]`, '', 'Commands:');
    const width = Math.max(...commands.map(([name]) => name.length));
    for (const [name, command] of commands) lines.push(`  ${name.padEnd(width)}  ${command.summary}`);
  }
  lines.push(
    '',
    'Options:',
    '  --config <file>  the YAML config; without it, the defaults. Every key, its default and',
    `                   meaning: docs/config/${component}.md`,
    '  -h, --help       print this help and exit',
    '  --version        print the version and commit and exit',
    '',
    'Example:',
    `  kraken ${component} --config /etc/kraken/${component}.yaml`,
  );
  return `${lines.join('\n')}\n`;
}
