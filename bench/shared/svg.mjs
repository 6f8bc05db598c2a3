// Pieces of the benches' small hand-written SVG plots.

/** Text safe inside SVG markup and attributes. */
export const escapeXml = (s) => String(s).replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** 1-2-5 steps giving about `count` ticks from 0 to `max`. */
export function linearTicks(max, count = 6) {
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks = [];
  for (let t = 0; t <= max + 1e-9; t += step) ticks.push(Number(t.toPrecision(6)));
  return ticks;
}
