/**
 * The few Kubernetes core shapes the KrakenCluster spec embeds, written out by hand as
 * strict zod schemas so that the CRD stays structural without
 * `x-kubernetes-preserve-unknown-fields`: references to Secret keys, resource requests
 * and limits, tolerations, volumes and image pull secrets.
 */
import { z } from 'zod';
import { quantitySchema } from './quantity.js';

/** RFC 1123 subdomain: the names of Secrets and most other objects. */
export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** A key of a Secret's data. */
const SECRET_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';

export const objectNameSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(new RegExp(DNS_SUBDOMAIN_PATTERN), 'must be a lowercase RFC 1123 subdomain');

/** A key of a Secret in the namespace of the resource, e.g. `{name: registry-auth, key: htpasswd}`. */
export function secretKeyRefSchema(defaultKey: string) {
  return z
    .object({
      name: objectNameSchema.describe('Name of the Secret, in the namespace of the resource.'),
      key: z
        .string()
        .min(1)
        .max(253)
        .regex(new RegExp(SECRET_KEY_PATTERN), 'must be a Secret key of [-._a-zA-Z0-9]')
        .default(defaultKey)
        .describe(`Key in the Secret's data (default \`${defaultKey}\`).`),
    })
    .strict();
}

export type SecretKeyRef = z.output<ReturnType<typeof secretKeyRefSchema>>;

const resourceListSchema = z
  .record(z.string().min(1).max(253), quantitySchema())
  .describe('Quantities by resource name (`cpu`, `memory`, `ephemeral-storage`, ...).');

/** Resource requests and limits of a container, as in a pod spec. */
export function resourcesSchema(defaults: { cpu: string; memory: string }) {
  return z
    .object({
      requests: resourceListSchema
        .default({ cpu: defaults.cpu, memory: defaults.memory })
        .describe('What the scheduler reserves for the container.'),
      limits: resourceListSchema.optional().describe('Hard limits; none when unset.'),
    })
    .strict()
    .prefault({})
    .describe('Resource requests and limits of the container.');
}

export type Resources = z.output<ReturnType<typeof resourcesSchema>>;

export const tolerationSchema = z
  .object({
    key: z.string().optional().describe('Taint key; empty with `operator: Exists` matches every taint.'),
    operator: z.enum(['Exists', 'Equal']).optional().describe('`Equal` (the default) or `Exists`.'),
    value: z.string().optional().describe('Taint value, with `operator: Equal`.'),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])
      .optional()
      .describe('Taint effect matched; every effect when unset.'),
    tolerationSeconds: z
      .number()
      .int()
      .optional()
      .describe('With `effect: NoExecute`, how long the pod stays bound after the taint appears.'),
  })
  .strict()
  .describe('A toleration, as in a pod spec.');

export type Toleration = z.output<typeof tolerationSchema>;

/** A persistent volume claimed per replica. */
export function volumeSchema(defaultSize: string) {
  return z
    .object({
      size: quantitySchema().default(defaultSize).describe('Capacity requested per replica.'),
      storageClassName: z
        .string()
        .min(1)
        .optional()
        .describe("Storage class of the claims; the cluster's default class when unset."),
    })
    .strict()
    .prefault({})
    .describe('The persistent volume each replica claims (ReadWriteOnce), kept across restarts.');
}

export const imagePullSecretsSchema = z
  .array(z.object({ name: objectNameSchema.describe('Name of a Secret of type dockerconfigjson.') }).strict())
  .default([])
  .describe('Secrets the kubelet pulls `image` with.');

export const nodeSelectorSchema = z
  .record(z.string().min(1).max(317), z.string().max(63))
  .default({})
  .describe('Node labels a pod must match to be scheduled on a node.');
