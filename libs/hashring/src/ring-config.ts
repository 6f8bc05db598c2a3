/**
 * Config of a hash ring client: members (a static list or a DNS name), replica
 * count, refresh interval and health checking. Apps embed `ringConfigSchema` (or
 * one made by `createRingConfigSchema` with devcluster defaults) in their own.
 */
import { z } from 'zod';
import { parseDnsTarget } from './dns-members.js';
import { InvalidRingMemberError } from './errors.js';
import { parseRingNode } from './ring-node.js';

export const ringNodeEntrySchema = z
  .union([
    z.string().min(1).describe('Member address: "host:port", "[ipv6]:port" or "http(s)://host:port".'),
    z
      .object({
        address: z
          .string()
          .min(1)
          .describe('Member address: "host:port", "[ipv6]:port" or "http(s)://host:port".'),
        weight: z
          .number()
          .min(0)
          .default(1)
          .describe('Relative share of keys; 0 makes the node a last resort.'),
      })
      .strict(),
  ])
  .describe('A ring member, as an address string or {address, weight}.');

/** The health schema, with the probed path's default (e.g. `/readiness` for members that must be ready). */
export function createRingHealthSchema(defaultPath = '/health') {
  return z
    .object({
      unhealthyThreshold: z
        .number()
        .int()
        .min(1)
        .default(3)
        .describe('Consecutive failures (probes or reported request failures) that make a node unhealthy.'),
      healthyThreshold: z
        .number()
        .int()
        .min(1)
        .default(2)
        .describe('Consecutive successes that make an unhealthy node healthy again.'),
      active: z
        .object({
          enabled: z.boolean().default(true).describe('Probe every member on an interval.'),
          path: z
            .string()
            .startsWith('/')
            .default(defaultPath)
            .describe('Path probed with GET; any 2xx is healthy.'),
          intervalMs: z.number().int().min(100).default(5_000).describe('Milliseconds between probe rounds.'),
          timeoutMs: z
            .number()
            .int()
            .min(1)
            .default(2_000)
            .describe('Milliseconds before a probe counts as failed.'),
        })
        .strict()
        .prefault({})
        .describe('Active health checks.'),
    })
    .strict()
    .prefault({})
    .describe('Member health: active probes plus passive failure reports, sharing the thresholds.');
}

export const ringHealthSchema = createRingHealthSchema();

export interface RingConfigDefaults {
  readonly nodes?: readonly string[];
  readonly replicas?: number;
  /** Default of `health.active.path` (default `/health`). */
  readonly healthPath?: string;
}

/** A ring config schema whose defaults suit one component (e.g. its devcluster members). */
export function createRingConfigSchema(defaults: RingConfigDefaults = {}) {
  return z
    .object({
      nodes: z
        .array(ringNodeEntrySchema)
        .default([...(defaults.nodes ?? [])])
        .describe('Static members. Leave empty when `dns` is set.'),
      dns: z
        .string()
        .optional()
        .describe(
          'Members from DNS: "name:port" resolves A and AAAA records, "srv:_service._proto.name" resolves SRV records.',
        ),
      scheme: z.enum(['http', 'https']).default('http').describe('Scheme of member URLs.'),
      replicas: z
        .number()
        .int()
        .min(1)
        .default(defaults.replicas ?? 3)
        .describe('Owners per key: how many members hold each blob.'),
      refreshIntervalMs: z
        .number()
        .int()
        .min(100)
        .default(30_000)
        .describe('Milliseconds between DNS membership refreshes.'),
      health:
        defaults.healthPath === undefined ? ringHealthSchema : createRingHealthSchema(defaults.healthPath),
    })
    .strict()
    .superRefine((config, ctx) => {
      if (config.dns !== undefined) {
        if (config.nodes.length > 0) {
          ctx.addIssue({ code: 'custom', path: ['dns'], message: 'set either `nodes` or `dns`, not both' });
        }
        try {
          parseDnsTarget(config.dns);
        } catch (error) {
          ctx.addIssue({ code: 'custom', path: ['dns'], message: messageOf(error) });
        }
      }
      config.nodes.forEach((entry, i) => {
        const address = typeof entry === 'string' ? entry : entry.address;
        try {
          parseRingNode(address, { scheme: config.scheme });
        } catch (error) {
          ctx.addIssue({ code: 'custom', path: ['nodes', i], message: messageOf(error) });
        }
      });
    })
    .prefault({})
    .describe('Hash ring membership, replication and health checking.');
}

function messageOf(error: unknown): string {
  return error instanceof InvalidRingMemberError ? error.message : String(error);
}

export const ringConfigSchema = createRingConfigSchema();

export type RingConfig = z.output<typeof ringConfigSchema>;
export type RingConfigInput = z.input<typeof ringConfigSchema>;
export type RingHealthConfig = z.output<typeof ringHealthSchema>;
