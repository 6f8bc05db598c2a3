// The completion-time CDF of each run as a small hand-written SVG: one step line per run (the
// fraction of agents done by time t), with S/R (the fastest possible pull) and S/(0.9·R) (the
// p50 target) marked. Time is on a log scale: the direct baseline takes about N times as long
// as the swarm, and a linear axis would squash the swarm's curve against S/R.

import { escapeXml } from '../shared/svg.mjs';

const COLORS = ['#2f6db5', '#d9822b', '#2e8b57', '#8e44ad'];

/** 1-2-3-5 ticks per decade from `min` to `max`. */
function logTicks(min, max) {
  const ticks = [];
  for (let decade = 10 ** Math.floor(Math.log10(min)); decade <= max; decade *= 10) {
    for (const m of [1, 2, 3, 5]) {
      const t = m * decade;
      if (t >= min && t <= max) ticks.push(Number(t.toPrecision(6)));
    }
  }
  return ticks;
}

/** `series`: [{ name, times: seconds[] }] (failed agents left out); returns the SVG text. */
export function cdfPlotSvg({ series, idealSeconds, title }) {
  const width = 720;
  const height = 440;
  const left = 64;
  const right = 24;
  const top = 72;
  const bottom = 56;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const allTimes = series.flatMap((s) => s.times);
  const xMin = Math.min(idealSeconds, ...allTimes) * 0.8;
  const xMax = Math.max(idealSeconds / 0.9, ...allTimes) * 1.1;
  const span = Math.log(xMax / xMin);
  const x = (t) => left + (Math.log(Math.max(t, xMin) / xMin) / span) * plotW;
  const y = (f) => top + (1 - f) * plotH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (const t of logTicks(xMin, xMax)) {
    parts.push(
      `<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${top}" y2="${top + plotH}" stroke="#eee"/>`,
      `<text x="${x(t).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle">${t}</text>`,
    );
  }
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${y(f).toFixed(1)}" y2="${y(f).toFixed(1)}" stroke="#eee"/>`,
      `<text x="${left - 6}" y="${(y(f) + 4).toFixed(1)}" text-anchor="end">${f * 100}%</text>`,
    );
  }
  parts.push(
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${left + plotW / 2}" y="${height - 14}" text-anchor="middle">completion time after the common start (s, log scale)</text>`,
    `<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">agents done</text>`,
  );
  // Labels on the outer side of each line, so the two never overlap.
  for (const [t, label, anchor, dx] of [
    [idealSeconds, 'S/R', 'end', -3],
    [idealSeconds / 0.9, '90% eff.', 'start', 3],
  ]) {
    parts.push(
      `<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${top}" y2="${top + plotH}" stroke="#c00" stroke-dasharray="4 3"/>`,
      `<text x="${(x(t) + dx).toFixed(1)}" y="${top - 4}" text-anchor="${anchor}" fill="#c00" font-size="11">${label}</text>`,
    );
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const times = [...s.times].sort((a, b) => a - b);
    const n = s.total ?? times.length;
    // A step up by 1/n at each completion; agents that never finished keep the line below 100%.
    const points = [`${x(xMin).toFixed(1)},${y(0).toFixed(1)}`];
    times.forEach((t, k) => {
      points.push(
        `${x(t).toFixed(1)},${y(k / n).toFixed(1)}`,
        `${x(t).toFixed(1)},${y((k + 1) / n).toFixed(1)}`,
      );
    });
    if (times.length > 0) {
      points.push(`${x(xMax).toFixed(1)},${y(times.length / n).toFixed(1)}`);
    }
    // The legend is a row above the plot, where no curve or marker can hide it.
    const legendX = left + i * 280;
    parts.push(
      `<polyline points="${points.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`,
      `<rect x="${legendX}" y="${top - 34}" width="14" height="4" fill="${color}"/>`,
      `<text x="${legendX + 20}" y="${top - 28}">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
