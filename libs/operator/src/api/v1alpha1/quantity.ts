/**
 * Kubernetes resource quantities (`512Mi`, `1.5Gi`, `250m`, `10G`, `1e3`), as the API
 * server accepts them in resource requests and volume sizes: a non-negative decimal
 * number and an optional suffix, binary (Ki..Ei), decimal (n, u, m, k, M..E) or a
 * decimal exponent. The CRD marks such a field `x-kubernetes-int-or-string`, so a
 * plain integer is accepted too; the pattern below travels into the CRD and the
 * operator checks the same one, so both refuse `10 GB` the same way.
 */
import { z } from 'zod';

const NUMBER = String.raw`(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)`;
const SUFFIX = String.raw`(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?${NUMBER})`;
/** Anchored and free of look-arounds, so that Go's RE2 (the API server) reads it as JavaScript does. */
export const QUANTITY_PATTERN = `^\\+?${NUMBER}${SUFFIX}?$`;
const QUANTITY = new RegExp(QUANTITY_PATTERN);

const BINARY: Readonly<Record<string, number>> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** A quantity as a user writes it: an integer or a quantity string. */
export type Quantity = number | string;

/** The value of a quantity (bytes for sizes, cores for CPU); undefined when it is not one. */
export function quantityValue(quantity: Quantity): number | undefined {
  if (typeof quantity === 'number') return Number.isFinite(quantity) && quantity >= 0 ? quantity : undefined;
  if (!QUANTITY.test(quantity)) return undefined;
  const match = /^\+?([0-9.]+)(.*)$/.exec(quantity);
  if (match === null) return undefined;
  const [, digits = '', suffix = ''] = match;
  const base = Number(digits);
  if (suffix in BINARY) return base * (BINARY[suffix] ?? 1);
  if (suffix in DECIMAL) return base * (DECIMAL[suffix] ?? 1);
  return base * 10 ** Number(suffix.slice(1));
}

/** Bytes of a size quantity, rounded up to a whole byte as the API server does. */
export function quantityBytes(quantity: Quantity): number {
  const value = quantityValue(quantity);
  if (value === undefined) throw new RangeError(`not a quantity: ${String(quantity)}`);
  return Math.ceil(value);
}

/** The quantity as the Kubernetes API writes it in a pod spec (a string). */
export function quantityString(quantity: Quantity): string {
  return typeof quantity === 'number' ? String(quantity) : quantity;
}

/** A resource quantity field: an integer, or a string such as `10Gi`. */
export function quantitySchema() {
  return z
    .union([
      z.number().int().min(0),
      z.string().regex(QUANTITY, 'must be a Kubernetes quantity such as 512Mi, 10Gi or 250m'),
    ])
    .meta({ 'x-kubernetes-int-or-string': true });
}
