// The run as a small hand-written SVG: on the left, the bytes each client had received over time,
// for the product (solid) and the floor (dashed) of one run; on the right, CPU-seconds per GiB
// delivered, stacked by role, for the product and the floor of every run.

import { escapeXml } from '../shared/svg.mjs';

const AGENT_COLORS = ['#2f6db5', '#d9822b', '#2e8b57', '#8e44ad', '#c0392b', '#16a085', '#7f8c8d', '#b7950b'];
const ROLE_COLORS = { origin: '#d9822b', agents: '#2f6db5', tracker: '#2e8b57', other: '#95a5a6' };
const MIB = 1024 * 1024;

function niceStep(max, ticks) {
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
}

function axes({ parts, left, top, width, height, xMax, yMax, xLabel, yLabel, xTicks = true }) {
  const yStep = niceStep(yMax, 5);
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    const y = top + height - (v / yMax) * height;
    parts.push(
      `<line x1="${left}" x2="${left + width}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#eee"/>`,
      `<text x="${left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${Number(v.toPrecision(4))}</text>`,
    );
  }
  if (xTicks) {
    const xStep = niceStep(xMax, 6);
    for (let v = 0; v <= xMax + 1e-9; v += xStep) {
      const x = left + (v / xMax) * width;
      parts.push(
        `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${top}" y2="${top + height}" stroke="#eee"/>`,
        `<text x="${x.toFixed(1)}" y="${top + height + 16}" text-anchor="middle">${Number(v.toPrecision(4))}</text>`,
      );
    }
  }
  parts.push(
    `<rect x="${left}" y="${top}" width="${width}" height="${height}" fill="none" stroke="#333"/>`,
    `<text x="${left + width / 2}" y="${top + height + 36}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(${left - 44} ${top + height / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
  );
}

/**
 * `progress`: { product: [[[s, bytes]...] per agent], floor: [...] } of one run; `cpu`: one entry
 * per run, { product: {role: s/GiB}, floor: {role: s/GiB} }; `sizeBytes`: the blob's size.
 */
export function throughputPlotSvg({ title, progress, cpu, sizeBytes }) {
  const width = 980;
  const height = 460;
  const top = 70;
  const plotH = 300;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];

  // Left: bytes received by each client over time.
  const left = 70;
  const plotW = 480;
  const all = [...progress.product, ...progress.floor].flat();
  const xMax = Math.max(1, ...all.map(([s]) => s)) * 1.05;
  const yMax = sizeBytes / MIB;
  axes({
    parts,
    left,
    top,
    width: plotW,
    height: plotH,
    xMax,
    yMax,
    xLabel: 'seconds after the common start',
    yLabel: 'MiB received by the client',
  });
  const line = (samples, color, dashed) => {
    const points = samples
      .map(
        ([s, bytes]) =>
          `${(left + (s / xMax) * plotW).toFixed(1)},${(top + plotH - (bytes / MIB / yMax) * plotH).toFixed(1)}`,
      )
      .join(' ');
    return `<polyline points="${points}" fill="none" stroke="${color}" stroke-width="${dashed ? 1.5 : 2}"${dashed ? ' stroke-dasharray="5 3"' : ''}/>`;
  };
  progress.product.forEach((samples, i) =>
    parts.push(line(samples, AGENT_COLORS[i % AGENT_COLORS.length], false)),
  );
  progress.floor.forEach((samples, i) =>
    parts.push(line(samples, AGENT_COLORS[i % AGENT_COLORS.length], true)),
  );
  parts.push(
    `<line x1="${left}" x2="${left + 24}" y1="${top - 30}" y2="${top - 30}" stroke="#333" stroke-width="2"/>`,
    `<text x="${left + 30}" y="${top - 26}">product (one line per agent)</text>`,
    `<line x1="${left + 230}" x2="${left + 254}" y1="${top - 30}" y2="${top - 30}" stroke="#333" stroke-dasharray="5 3"/>`,
    `<text x="${left + 260}" y="${top - 26}">floor</text>`,
  );

  // Right: CPU-seconds per GiB delivered, stacked by role, product and floor of each run.
  const barLeft = 660;
  const barW = 290;
  const roles = Object.keys(ROLE_COLORS);
  const totals = cpu
    .flatMap((run) => [run.product, run.floor])
    .map((r) => roles.reduce((sum, role) => sum + (r[role] ?? 0), 0));
  const barMax = Math.max(1, ...totals) * 1.1;
  axes({
    parts,
    left: barLeft,
    top,
    width: barW,
    height: plotH,
    xMax: 1,
    yMax: barMax,
    xLabel: 'run: product | floor',
    yLabel: 'CPU-seconds per GiB delivered',
    xTicks: false,
  });
  const slot = barW / (cpu.length * 2 + cpu.length + 1);
  cpu.forEach((run, r) => {
    [run.product, run.floor].forEach((values, k) => {
      const x = barLeft + slot * (1 + r * 3 + k);
      let y = top + plotH;
      for (const role of roles) {
        const h = ((values[role] ?? 0) / barMax) * plotH;
        if (h <= 0) continue;
        y -= h;
        parts.push(
          `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(slot * 0.9).toFixed(1)}" height="${h.toFixed(1)}" fill="${ROLE_COLORS[role]}"/>`,
        );
      }
      const total = roles.reduce((sum, role) => sum + (values[role] ?? 0), 0);
      parts.push(
        `<text x="${(x + slot * 0.45).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" font-size="11">${total.toFixed(2)}</text>`,
        `<text x="${(x + slot * 0.45).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle" font-size="10">${k === 0 ? `P${r + 1}` : `F${r + 1}`}</text>`,
      );
    });
  });
  roles.forEach((role, i) => {
    const x = barLeft + i * 72;
    parts.push(
      `<rect x="${x}" y="${top - 36}" width="12" height="12" fill="${ROLE_COLORS[role]}"/>`,
      `<text x="${x + 16}" y="${top - 26}">${role}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
