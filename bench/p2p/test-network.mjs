// The benchmark's test network: one Linux network namespace per host (tracker, origin, agents)
// and one "switch" namespace holding a bridge that every host's veth link plugs into. Nothing is
// created or changed in the root namespace: each veth pair is created inside the switch
// namespace with its other end moved straight into its host namespace, and the 10.77.0.0/16
// addresses exist only on those host ends.
//
// Every name carries the prefix `kp2p-<pid of the bench>-`, so teardown finds exactly what a run
// created, and a later run recognises the leftovers of one that was SIGKILLed (its pid is gone).
import { readFileSync } from 'node:fs';
import { applyLinkShaping, DEFAULT_QUEUE_MS, HOST_QUEUE_FRAMES, hostQueueBytes } from './link-shaping.mjs';
import { run } from './system-command.mjs';

const NAME_PREFIX = 'kp2p-';
const NAME_PATTERN = /^kp2p-(\d+)-[a-z0-9-]+$/;
const SUBNET_BITS = 16;
/** Host names: lowercase letters, digits and dashes, short enough for any netns name. */
const HOST_NAME = /^[a-z][a-z0-9-]{0,19}$/;
const MAX_HOSTS = 250;
/**
 * Jumbo frames, as datacenter fabrics run them and cloud VPCs offer them (AWS: 9001 bytes).
 * Besides the header cost (see link-shaping.mjs), the frame size sets the packet rate: with
 * segmentation offload off, 16 agents over 1500-byte frames kept 1.3 to 1.5 of the machine's two
 * cores busy, over 9000-byte frames 0.77 to 0.86.
 */
export const DEFAULT_MTU = 9000;
export const MIN_MTU = 1280;
export const MAX_MTU = 9000;

function listNamespaces() {
  // `ip netns list` prints "name" or "name (id: N)" per line.
  return run('ip', ['netns', 'list'])
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0])
    .filter((name) => name !== undefined && name !== '');
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Process ids inside a namespace (`ip netns pids`), empty when it is already gone. */
export function namespacePids(ns) {
  try {
    return run('ip', ['netns', 'pids', ns])
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [];
  }
}

/**
 * Kills every process left in each namespace, then deletes it. A namespace stays alive while a
 * process is inside it, so the kill comes first.
 */
function deleteNamespaces(names) {
  for (const ns of names) {
    for (const pid of namespacePids(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  const failures = [];
  for (const ns of names) {
    try {
      run('ip', ['netns', 'del', ns]);
    } catch (err) {
      if (listNamespaces().includes(ns)) failures.push(err.message);
    }
  }
  if (failures.length > 0) throw new Error(`teardown left namespaces behind:\n${failures.join('\n')}`);
}

/**
 * Deletes the namespaces of earlier runs whose bench process no longer exists (a run that was
 * SIGKILLed cannot clean up after itself). Runs of a live bench are left alone, so two benches
 * may run at once. Returns the names it removed.
 */
export function removeLeftovers() {
  const stale = listNamespaces().filter((name) => {
    const m = NAME_PATTERN.exec(name);
    return m !== null && Number(m[1]) !== process.pid && !isAlive(Number(m[1]));
  });
  deleteNamespaces(stale);
  return stale;
}

/** The namespaces of this process's runs that still exist (used by tests to assert a clean exit). */
export function ownNamespaces(pid = process.pid) {
  return listNamespaces().filter((name) => name.startsWith(`${NAME_PREFIX}${pid}-`));
}

function hostAddress(index) {
  // .0.1 is left unused; MAX_HOSTS keeps every host inside 10.77.0.0/24.
  return `10.77.0.${index + 2}`;
}

/**
 * Builds the network: a bridge in the switch namespace and, for every host in `hosts` (in
 * order), a namespace with loopback up and `eth0` at its own address, linked to the bridge with
 * a veth pair shaped to `bytesPerSecond` in each direction (see link-shaping.mjs): toward the
 * host with a queue of `queueMs`, from it with a host's transmit queue; both ends at `mtu` bytes.
 *
 * Returns { hosts: Map<name, { name, ns, ip, dev }>, shaping, close() }; close() is idempotent
 * and synchronous, and deletes everything created, including processes still inside.
 */
export function createTestNetwork({ hosts, bytesPerSecond, mtu = DEFAULT_MTU, queueMs = DEFAULT_QUEUE_MS }) {
  if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > MAX_MTU)
    throw new Error(`mtu must be an integer from ${MIN_MTU} to ${MAX_MTU} (got ${mtu})`);
  if (hosts.length === 0 || hosts.length > MAX_HOSTS)
    throw new Error(`a test network has 1 to ${MAX_HOSTS} hosts (got ${hosts.length})`);
  for (const name of hosts) {
    if (!HOST_NAME.test(name) || name === 'sw') throw new Error(`bad host name ${JSON.stringify(name)}`);
  }
  if (new Set(hosts).size !== hosts.length) throw new Error('host names must be unique');

  const prefix = `${NAME_PREFIX}${process.pid}-`;
  const switchNs = `${prefix}sw`;
  const created = [];
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    // Hosts first: their processes go, then the switch (and with it every veth pair).
    deleteNamespaces([...created].reverse());
  };

  try {
    run('ip', ['netns', 'add', switchNs]);
    created.push(switchNs);
    run('ip', ['-n', switchNs, 'link', 'set', 'lo', 'up']);
    // No STP: the ports forward as soon as they are up, and the bridge has no loops.
    run('ip', ['-n', switchNs, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0']);
    run('ip', ['-n', switchNs, 'link', 'set', 'br0', 'up']);

    const byName = new Map();
    let shaping;
    hosts.forEach((name, index) => {
      const ns = `${prefix}${name}`;
      run('ip', ['netns', 'add', ns]);
      created.push(ns);
      const port = `p${index}`;
      run('ip', ['-n', switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      run('ip', ['-n', switchNs, 'link', 'set', port, 'master', 'br0']);
      run('ip', ['-n', switchNs, 'link', 'set', port, 'up']);
      const ip = hostAddress(index);
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      run('ip', ['-n', ns, 'addr', 'add', `${ip}/${SUBNET_BITS}`, 'dev', 'eth0']);
      // No segmentation offload on either end: see link-shaping.mjs.
      run('ip', ['-n', ns, 'link', 'set', 'eth0', 'gso_max_segs', '1']);
      run('ip', ['-n', switchNs, 'link', 'set', port, 'gso_max_segs', '1']);
      run('ip', ['-n', ns, 'link', 'set', 'eth0', 'mtu', String(mtu)]);
      run('ip', ['-n', switchNs, 'link', 'set', port, 'mtu', String(mtu)]);
      run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      // The host's upload is shaped on its own end, with a host's transmit queue; its download
      // on the switch's end, with a switch port's (see link-shaping.mjs).
      applyLinkShaping({ ns, dev: 'eth0', bytesPerSecond, limitBytes: hostQueueBytes(mtu) });
      shaping = {
        ...applyLinkShaping({ ns: switchNs, dev: port, bytesPerSecond, latencyMs: queueMs }),
        hostQueueFrames: HOST_QUEUE_FRAMES,
        mtu,
      };
      byName.set(name, { name, ns, ip, dev: 'eth0' });
    });
    return { hosts: byName, switchNs, shaping, close };
  } catch (err) {
    close();
    throw err;
  }
}

/** Bytes sent so far on a host's link (the kernel's counter, read inside its namespace). */
export function txBytes(host) {
  const [link] = JSON.parse(run('ip', ['-j', '-s', '-n', host.ns, 'link', 'show', 'dev', host.dev]));
  const bytes = link?.stats64?.tx?.bytes;
  if (typeof bytes !== 'number') throw new Error(`no tx counter for ${host.dev} in ${host.ns}`);
  return bytes;
}

/**
 * TCP segments sent and retransmitted so far in a host's namespace (its /proc/net/snmp): a
 * retransmitted segment cost link time without adding data, so it shows where shaping dropped.
 */
export function tcpSegments(host) {
  const lines = run('ip', ['netns', 'exec', host.ns, 'cat', '/proc/net/snmp'])
    .split('\n')
    .filter((l) => l.startsWith('Tcp:'));
  const [names, values] = lines.map((l) => l.trim().split(/\s+/).slice(1));
  const field = (name) => Number(values?.[names?.indexOf(name) ?? -1]);
  const out = field('OutSegs');
  const retrans = field('RetransSegs');
  if (!Number.isFinite(out) || !Number.isFinite(retrans)) throw new Error(`no TCP counters in ${host.ns}`);
  return { out, retrans };
}

/** The kernel release, for the report (shaping behaviour depends on it). */
export function kernelRelease() {
  try {
    return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}
