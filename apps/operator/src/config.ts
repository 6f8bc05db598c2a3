/** Configuration of the operator binary. */
import { z } from 'zod';
import { leaderElectionConfigSchema, workQueueConfigSchema } from '@kraken/operator';
import {
  clientTlsSchema,
  listenSchema,
  loggingSchema,
  serverTlsSchema,
  tracingSchema,
} from '@kraken/service-kit';

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be "host:port"');

export const configSchema = z
  .object({
    listen: listenSchema(15010),
    kubernetes: z
      .object({
        kubeconfig: z
          .string()
          .min(1)
          .optional()
          .describe(
            "Kubeconfig file. Absent: the pod's service account in a cluster, else `KUBECONFIG` or ~/.kube/config as kubectl reads them.",
          ),
        namespace: z
          .string()
          .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name')
          .optional()
          .describe(
            'Watch KrakenClusters and ReplicationRules in this namespace only (a Role then suffices). Absent: every namespace.',
          ),
      })
      .strict()
      .prefault({})
      .describe('The Kubernetes API server and what the operator watches.'),
    leaderElection: leaderElectionConfigSchema,
    workQueue: workQueueConfigSchema,
    replication: z
      .object({
        statusIntervalMs: z
          .number()
          .int()
          .min(500)
          .default(10_000)
          .describe(
            "How often a ReplicationRule's status (pending, failed, lag) is read from its build-index (ms).",
          ),
        requestTimeoutMs: z
          .number()
          .int()
          .min(100)
          .default(10_000)
          .describe('Timeout of one request to a build-index (ms).'),
        operatorIdentity: z
          .string()
          .min(1)
          .default('operator')
          .describe(
            "The identity (certificate common name) of `tls.client`'s certificate; the build-indexes the operator renders accept rule writes from it.",
          ),
      })
      .strict()
      .prefault({})
      .describe('How ReplicationRules reach the build-index of their source cluster.'),
    serviceAddresses: z
      .record(hostPort, hostPort)
      .default({})
      .describe(
        'In-cluster "host:port" → "host:port" to dial instead, for an operator that runs outside the cluster (through a tunnel or port-forward). In a pod, leave it empty.',
      ),
    tls: z
      .object({ server: serverTlsSchema.optional(), client: clientTlsSchema.optional() })
      .strict()
      .prefault({})
      .describe(
        "TLS of the operational endpoints (`server`) and of requests to clusters' build-indexes (`client`: the CA of the clusters and the operator's client certificate).",
      ),
    logging: loggingSchema,
    tracing: tracingSchema,
  })
  .strict();

export type Config = z.output<typeof configSchema>;

/** Title and intro of docs/config/operator.md, read by tools/docs-config.mjs and by config-docs.test.ts. */
export const configReference = {
  component: 'operator',
  title: 'Operator configuration',
  intro:
    'The operator reconciles `KrakenCluster` resources into the workloads of a cluster and `ReplicationRule` resources into replication rules of build-indexes (see the README, "Deploy on Kubernetes"). It reads one YAML file, `node apps/operator/dist/main.js --config operator.yaml`; every key is optional, and an empty file (or no `--config`) runs with the defaults below: credentials as kubectl finds them, every namespace, leader election on.',
};
