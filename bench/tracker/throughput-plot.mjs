// Throughput and p99 latency over a run as a small hand-written SVG: announces answered per
// second (left axis, linear) and that second's p99 per request (right axis, logarithmic), the phases marked,
// the 20,000 announces/s and 10 ms targets as dashed lines, and grey bars along the bottom for
// the seconds when other processes used the cores (their height: cores, up to two).

import { escapeXml, linearTicks } from '../shared/svg.mjs';

/**
 * `points`: [{ t, perSecond, p99Ms, otherLoadCores }]; `phases`: [{ name, start, end }] (seconds);
 * `targets`: { perSecond, p99Ms }. Returns the SVG text.
 */
export function throughputPlotSvg({ points, phases, targets, title }) {
  const width = 760;
  const height = 420;
  const left = 64;
  const right = 64;
  const top = 64;
  const bottom = 52;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const xMax = Math.max(1, ...points.map((p) => p.t), ...phases.map((p) => p.end));
  const yMax = Math.max(targets.perSecond * 1.2, ...points.map((p) => p.perSecond)) * 1.05;
  const latencies = points.map((p) => p.p99Ms).filter((v) => v > 0);
  const lMin = 0.1;
  const lMax = 10 ** Math.ceil(Math.log10(Math.max(targets.p99Ms * 2, ...latencies)));
  const x = (t) => left + (t / xMax) * plotW;
  const y = (v) => top + (1 - v / yMax) * plotH;
  const yl = (ms) => top + (1 - Math.log10(Math.max(ms, lMin) / lMin) / Math.log10(lMax / lMin)) * plotH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  phases.forEach((phase, i) => {
    if (i % 2 === 1) {
      parts.push(
        `<rect x="${x(phase.start).toFixed(1)}" y="${top}" width="${(x(phase.end) - x(phase.start)).toFixed(1)}" height="${plotH}" fill="#f4f6fa"/>`,
      );
    }
    parts.push(
      `<text x="${((x(phase.start) + x(phase.end)) / 2).toFixed(1)}" y="${top + 14}" text-anchor="middle" fill="#666" font-size="11">${escapeXml(phase.name)}</text>`,
    );
  });
  for (const t of linearTicks(xMax)) {
    parts.push(`<text x="${x(t).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle">${t}</text>`);
  }
  for (const v of linearTicks(yMax, 5)) {
    parts.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`,
      `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v >= 1000 ? `${v / 1000}k` : v}</text>`,
    );
  }
  for (let ms = lMin; ms <= lMax * 1.0001; ms *= 10) {
    parts.push(
      `<text x="${left + plotW + 6}" y="${(yl(ms) + 4).toFixed(1)}" fill="#c0392b">${Number(ms.toPrecision(3))}</text>`,
    );
  }
  parts.push(
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${left + plotW / 2}" y="${height - 12}" text-anchor="middle">time (s)</text>`,
    `<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">announces answered per second</text>`,
    `<text transform="translate(${width - 14} ${top + plotH / 2}) rotate(90)" text-anchor="middle" fill="#c0392b">p99 request latency of the second (ms, log)</text>`,
    `<line x1="${left}" x2="${left + plotW}" y1="${y(targets.perSecond).toFixed(1)}" y2="${y(targets.perSecond).toFixed(1)}" stroke="#2f6db5" stroke-dasharray="4 3"/>`,
    `<line x1="${left}" x2="${left + plotW}" y1="${yl(targets.p99Ms).toFixed(1)}" y2="${yl(targets.p99Ms).toFixed(1)}" stroke="#c0392b" stroke-dasharray="4 3"/>`,
  );
  const barHeight = 40;
  for (const p of points) {
    const load = Math.min(2, p.otherLoadCores ?? 0);
    if (load < 0.05) continue;
    const h = (load / 2) * barHeight;
    parts.push(
      `<rect x="${(x(p.t) - plotW / xMax / 2).toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${(plotW / xMax).toFixed(1)}" height="${h.toFixed(1)}" fill="#bbb" opacity="0.7"/>`,
    );
  }
  const line = (values, stroke) =>
    `<polyline points="${values.join(' ')}" fill="none" stroke="${stroke}" stroke-width="1.5"/>`;
  parts.push(
    line(
      points.map((p) => `${x(p.t).toFixed(1)},${y(p.perSecond).toFixed(1)}`),
      '#2f6db5',
    ),
    line(
      points.filter((p) => p.p99Ms > 0).map((p) => `${x(p.t).toFixed(1)},${yl(p.p99Ms).toFixed(1)}`),
      '#c0392b',
    ),
    `<rect x="${left}" y="${top - 22}" width="14" height="3" fill="#2f6db5"/>`,
    `<text x="${left + 20}" y="${top - 17}">announces/s (target ${targets.perSecond}, dashed)</text>`,
    `<rect x="${left + 300}" y="${top - 22}" width="14" height="3" fill="#c0392b"/>`,
    `<text x="${left + 320}" y="${top - 17}">p99 (target ${targets.p99Ms} ms, dashed)</text>`,
    `<rect x="${left + 520}" y="${top - 26}" width="10" height="10" fill="#bbb"/>`,
    `<text x="${left + 536}" y="${top - 17}">other load (0–2 cores)</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
