/**
 * `spec.agents`: the DaemonSet on every node. Each agent runs in the node's network
 * namespace, so containerd reaches its registry on the node's localhost and peers reach
 * its P2P port at the node's address; an init container points containerd at it.
 */
import { z } from 'zod';
import { peerConfigShape } from '@kraken/p2p-core';
import { nodeSelectorSchema, resourcesSchema, tolerationSchema } from './core-types.js';
import { quantitySchema } from './quantity.js';

const port = (value: number, what: string) =>
  z.number().int().min(1).max(65535).default(value).describe(what);

// The p2p-core block's own limits, so the agents' and the origins' limits read alike.
const { bandwidth } = peerConfigShape({ port: 16001, dir: 'p2p' });

const REGISTRY_NAME = '^(_default|[A-Za-z0-9.-]+(:[0-9]+)?)$';

export const agentsSpecSchema = z
  .object({
    nodeSelector: nodeSelectorSchema,
    tolerations: z
      .array(tolerationSchema)
      .default([{ operator: 'Exists' }])
      .describe('Taints the agents tolerate; every taint by default, so that every node pulls through P2P.'),
    registryPort: port(16000, "Port of the agent's registry and API on the node's localhost."),
    p2pPort: port(16001, 'P2P port, on every address of the node; open it between nodes.'),
    cache: z
      .object({
        size: quantitySchema().default('50Gi').describe('Disk budget of the blob cache on each node.'),
        hostPath: z
          .string()
          .regex(/^\/.+/, 'must be an absolute path')
          .default('/var/lib/kraken-agent')
          .describe(
            'Directory on the node holding the cache and partial downloads; created and given to the agent user (uid 65532) by an init container.',
          ),
      })
      .strict()
      .prefault({})
      .describe("The agent's blob cache on the node, kept across restarts."),
    bandwidth,
    containerd: z
      .object({
        setup: z
          .boolean()
          .default(true)
          .describe('Run `kraken agent setup-containerd` in an init container, writing hosts.toml files.'),
        configPath: z
          .string()
          .regex(/^\/.+/, 'must be an absolute path')
          .default('/etc/containerd/certs.d')
          .describe("containerd's registry `config_path` on the node, where hosts.toml files go."),
        configFile: z
          .string()
          .regex(/^\/.+/, 'must be an absolute path')
          .default('/etc/containerd/config.toml')
          .describe(
            "containerd's config.toml on the node, checked (read-only) for `config_path`; the init container fails when containerd would ignore the files.",
          ),
        registries: z
          .array(z.string().regex(new RegExp(REGISTRY_NAME), 'must be a registry host[:port] or _default'))
          .default([])
          .describe(
            'Registries containerd pulls through the agents; by default the names of `origins.upstreams` and `pushRegistries`.',
          ),
      })
      .strict()
      .prefault({})
      .describe('How containerd on each node is pointed at its agent (hosts.toml mirrors).'),
    pushRegistries: z
      .array(z.string().min(1))
      .default([])
      .describe(
        "Names this cluster's proxy is reached by, as images pushed through it are named (e.g. `registry.example.com`): nodes pulling by that name get them from the agents.",
      ),
    resources: resourcesSchema({ cpu: '250m', memory: '512Mi' }),
  })
  .strict()
  .prefault({})
  .refine((agents) => agents.registryPort !== agents.p2pPort, {
    message: 'must differ from registryPort',
    path: ['p2pPort'],
  })
  .describe('The agents: a read-only registry on every node, fetching large blobs from peers.');
