/**
 * Versions of tag values, tombstones and replication rules: which of two writes is
 * newer, without trusting clocks to agree across nodes or clusters.
 *
 * A version is (wall ms, counter, cluster id, node id), written as one string of
 * fixed-width hex fields followed by the ids:
 *
 *   018f2a3b4c5d.000000.a.127-0-0-1-15004
 *
 * Versions are ordered as strings. The wall time and counter are fixed-width
 * lowercase hex, so they decide the order first and as numbers; the ids only break
 * ties between writes that carry the same (wall, counter), which is what makes
 * concurrent writes resolve the same way on every node. The same order holds in
 * SQLite (`ORDER BY`, `>` on the text), where the replication queue compares them.
 *
 * Values stored before versions existed carry only `updatedAt`/`deletedAt`; their
 * version is derived from that time (counter 0, empty ids), so old state sorts by its
 * time exactly as it did under wall-clock last-writer-wins.
 */
import { z } from 'zod';

export interface Version {
  readonly wallMs: number;
  readonly counter: number;
  readonly clusterId: string;
  readonly nodeId: string;
}

/** Cluster ids and rule names: DNS-label-like, safe in keys, URLs and version strings. */
export const CLUSTER_ID_PATTERN = /^[a-z0-9-]{1,63}$/;
const VERSION_PATTERN = /^([0-9a-f]{12})\.([0-9a-f]{6})\.([a-z0-9-]{0,63})\.([a-z0-9-]{0,63})$/;
/**
 * The latest wall time of a version: 9999-12-31T23:59:59.999Z. Times of writes
 * (`updatedAt`, `deletedAt`) are derived from versions and stored as ISO 8601 with
 * four-digit years, which cannot go further; twelve hex digits could.
 */
export const MAX_WALL_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
export const MAX_COUNTER = 0xff_ffff;

export const versionSchema = z
  .string()
  .regex(VERSION_PATTERN, 'must be a version: <12 hex wall ms>.<6 hex counter>.<cluster id>.<node id>')
  .refine(isWithinTime, 'must be a version of a time before the year 10000')
  .describe('Hybrid logical clock version of the write; versions order writes as strings.');

export function isVersion(value: string): boolean {
  return VERSION_PATTERN.test(value) && isWithinTime(value);
}

/** False for a version whose wall time is past MAX_WALL_MS; true for anything else. */
function isWithinTime(value: string): boolean {
  const wall = VERSION_PATTERN.exec(value)?.[1];
  return wall === undefined || Number.parseInt(wall, 16) <= MAX_WALL_MS;
}

export function formatVersion(version: Version): string {
  const wall = Math.min(MAX_WALL_MS, Math.max(0, Math.floor(version.wallMs)));
  return [
    wall.toString(16).padStart(12, '0'),
    version.counter.toString(16).padStart(6, '0'),
    version.clusterId,
    version.nodeId,
  ].join('.');
}

/** Parses a version string; throws a RangeError for anything else (callers validate first). */
export function parseVersion(value: string): Version {
  const match = VERSION_PATTERN.exec(value);
  if (match === null) throw new RangeError(`not a version: ${value}`);
  return {
    wallMs: Number.parseInt(match[1] as string, 16),
    counter: Number.parseInt(match[2] as string, 16),
    clusterId: match[3] as string,
    nodeId: match[4] as string,
  };
}

/** Negative when `a` is older than `b`, 0 when equal, positive when newer. */
export function compareVersions(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The version of a write stored without one: its ISO time, counter 0, no ids. */
export function legacyVersion(isoTime: string): string {
  const ms = Date.parse(isoTime);
  return formatVersion({ wallMs: Number.isFinite(ms) ? ms : 0, counter: 0, clusterId: '', nodeId: '' });
}

/** The wall time a version was written at, as ISO-8601 (for `updatedAt` fields). */
export function versionTime(version: string): string {
  return new Date(parseVersion(version).wallMs).toISOString();
}

/** A node id from anything naming the node (its URL): lowercase [a-z0-9-], at most 63 chars. */
export function toNodeId(name: string): string {
  return name
    .toLowerCase()
    .replace(/^[a-z]+:\/\//, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
}
