/**
 * The one line `kraken agent --help` shows for the subcommand, in a file of its own: the agent
 * lists it at every start, and loads the subcommand itself (its TOML parser among it) only to run it.
 */
export const SUMMARY = 'point containerd at the agent: write hosts.toml per registry (--remove undoes it).';
