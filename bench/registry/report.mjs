// Turns both targets' measurements into ratios against the targets the project set, and draws
// the ratios as a small SVG bar chart.

import { escapeXml } from '../shared/svg.mjs';

/** Metrics compared, how to read each, and the minimum proxy/docker-registry ratio where one is set. */
export const METRICS = [
  { key: 'blobPut', label: 'blob PUT MB/s', field: 'MBps', min: null },
  { key: 'blobGet', label: 'blob GET MB/s', field: 'MBps', min: 1.0 },
  { key: 'manifestGetByTag', label: 'manifest GET by tag req/s', field: 'reqPerSec', min: 0.8 },
  { key: 'manifestGetByDigest', label: 'manifest GET by digest req/s', field: 'reqPerSec', min: 0.8 },
  // The pull path: an agent's blob GET (from its disk cache) against docker-registry's.
  { key: 'agentBlobGet', refKey: 'blobGet', label: 'agent blob GET MB/s', field: 'MBps', min: null },
];

const round3 = (x) => Math.round(x * 1000) / 1000;

/** `results` maps target name to its measurements; ratios are proxy / docker-registry. */
export function compare(results) {
  const ours = results.proxy;
  const ref = results['docker-registry'];
  if (!ours || !ref) return { ratios: null, targets: null };
  const ratios = {};
  const targets = [];
  for (const m of METRICS) {
    const a = ours[m.key]?.[m.field];
    const b = ref[m.refKey ?? m.key]?.[m.field];
    const ratio = typeof a === 'number' && typeof b === 'number' && b > 0 ? round3(a / b) : null;
    ratios[m.key] = ratio;
    if (m.min !== null)
      targets.push({ metric: m.key, min: m.min, ratio, met: ratio !== null && ratio >= m.min });
  }
  return { ratios, targets };
}

/** A horizontal bar per metric, a line at 1.0× and a tick at each metric's target. */
export function ratioChartSvg({ ratios, title }) {
  const rows = METRICS.map((m) => ({ ...m, ratio: ratios[m.key] }));
  const scaleMax = Math.max(2, ...rows.map((r) => r.ratio ?? 0)) * 1.1;
  const left = 230;
  const width = 640;
  const plot = width - left - 70;
  const rowH = 34;
  const top = 48;
  const height = top + rows.length * rowH + 34;
  const x = (v) => left + (v / scaleMax) * plot;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    parts.push(`<text x="${left - 8}" y="${y + 17}" text-anchor="end">${escapeXml(r.label)}</text>`);
    if (r.ratio === null) {
      parts.push(`<text x="${left + 4}" y="${y + 17}" fill="#888">n/a</text>`);
      return;
    }
    // Green/orange against a set target; blue where the metric is informational only.
    const fill = r.min === null ? '#4a78b5' : r.ratio >= r.min ? '#2e8b57' : '#d9822b';
    const barEnd = x(r.ratio);
    parts.push(
      `<rect x="${left}" y="${y + 4}" width="${Math.max(1, barEnd - left).toFixed(1)}" height="18" fill="${fill}"/>`,
    );
    if (r.min !== null) {
      const tick = x(r.min).toFixed(1);
      parts.push(
        `<line x1="${tick}" x2="${tick}" y1="${y + 1}" y2="${y + 25}" stroke="#c00" stroke-width="2"/>`,
      );
    }
    const labelX = Math.max(barEnd, r.min === null ? 0 : x(r.min)) + 6;
    parts.push(`<text x="${labelX.toFixed(1)}" y="${y + 17}">${r.ratio.toFixed(2)}×</text>`);
  });
  const axisY = top + rows.length * rowH + 4;
  parts.push(
    `<line x1="${x(1).toFixed(1)}" x2="${x(1).toFixed(1)}" y1="${top - 4}" y2="${axisY}" stroke="#333" stroke-dasharray="4 3"/>`,
  );
  parts.push(
    `<text x="${x(1).toFixed(1)}" y="${axisY + 16}" text-anchor="middle" fill="#333">1.0× docker-registry</text>`,
  );
  parts.push(
    `<text x="${width - 8}" y="${axisY + 16}" text-anchor="end" fill="#c00" font-size="11">red tick: target</text>`,
  );
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
