// Replication lag over the run as a small hand-written SVG: each image's lag (push completed on
// a → its tag served by b's agent) as a dot at the time its push completed, the source's status
// lag (age of the oldest change not yet replicated) as a line, the last push marked, and the
// 10 s p99 target as a dashed line.

import { escapeXml, linearTicks } from '../shared/svg.mjs';

/**
 * `points`: [{ t, lag }] (seconds: push completed, lag); `samples`: [{ t, lagSeconds }];
 * `lastPushSeconds`; `targetSeconds`. Returns the SVG text.
 */
export function lagPlotSvg({ points, samples, lastPushSeconds, targetSeconds, title }) {
  const width = 720;
  const height = 420;
  const left = 60;
  const right = 24;
  const top = 64;
  const bottom = 52;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const xMax = Math.max(1, ...points.map((p) => p.t + p.lag), ...samples.map((s) => s.t)) * 1.02;
  const yMax =
    Math.max(targetSeconds * 1.1, ...points.map((p) => p.lag), ...samples.map((s) => s.lagSeconds)) * 1.05;
  const x = (t) => left + (t / xMax) * plotW;
  const y = (v) => top + (1 - v / yMax) * plotH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (const t of linearTicks(xMax)) {
    parts.push(
      `<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${top}" y2="${top + plotH}" stroke="#eee"/>`,
      `<text x="${x(t).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle">${t}</text>`,
    );
  }
  for (const v of linearTicks(yMax, 5)) {
    parts.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`,
      `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`,
    );
  }
  parts.push(
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${left + plotW / 2}" y="${height - 12}" text-anchor="middle">time since the first push started (s)</text>`,
    `<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">lag (s)</text>`,
    `<line x1="${left}" x2="${left + plotW}" y1="${y(targetSeconds).toFixed(1)}" y2="${y(targetSeconds).toFixed(1)}" stroke="#c00" stroke-dasharray="4 3"/>`,
    `<text x="${left + 4}" y="${(y(targetSeconds) - 4).toFixed(1)}" fill="#c00" font-size="11">p99 target ${targetSeconds} s</text>`,
    `<line x1="${x(lastPushSeconds).toFixed(1)}" x2="${x(lastPushSeconds).toFixed(1)}" y1="${top}" y2="${top + plotH}" stroke="#888" stroke-dasharray="2 3"/>`,
    `<text x="${(x(lastPushSeconds) - 3).toFixed(1)}" y="${top + 12}" text-anchor="end" fill="#666" font-size="11">last push</text>`,
  );
  if (samples.length > 0) {
    const line = samples.map((s) => `${x(s.t).toFixed(1)},${y(s.lagSeconds).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${line}" fill="none" stroke="#d9822b" stroke-width="1.5"/>`);
  }
  for (const p of points) {
    parts.push(`<circle cx="${x(p.t).toFixed(1)}" cy="${y(p.lag).toFixed(1)}" r="3" fill="#2f6db5"/>`);
  }
  // The legend is a row above the plot, where no point can hide it.
  parts.push(
    `<circle cx="${left + 6}" cy="${top - 18}" r="3" fill="#2f6db5"/>`,
    `<text x="${left + 14}" y="${top - 14}">push completed on a → tag served by b's agent</text>`,
    `<rect x="${left + 330}" y="${top - 20}" width="14" height="3" fill="#d9822b"/>`,
    `<text x="${left + 350}" y="${top - 14}">status lag on a (oldest change not yet replicated)</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
