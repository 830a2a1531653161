/**
 * A small line chart as an SVG string: a log-scale x axis (cluster sizes), a linear y axis
 * (seconds), one polyline per series, dashed for expectations, and a legend. Enough for the
 * figures in docs/; nothing here is interactive.
 */

export interface Series {
  name: string;
  color: string;
  /** Expectations are dashed, measurements solid with dots. */
  dashed?: boolean;
  points: Array<[x: number, y: number]>;
}

export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  xTicks: number[];
  series: Series[];
}

const W = 760, H = 460;
const M = { left: 60, right: 230, top: 40, bottom: 50 };

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function lineChart(chart: Chart): string {
  const xs = chart.xTicks;
  const [x0, x1] = [Math.log10(Math.min(...xs)), Math.log10(Math.max(...xs))];
  const yMax = niceCeil(Math.max(...chart.series.flatMap((s) => s.points.map(([, y]) => y))));
  const px = (x: number) => M.left + ((Math.log10(x) - x0) / (x1 - x0)) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - (y / yMax) * (H - M.top - M.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="22" font-size="15" font-weight="bold">${escape(chart.title)}</text>`,
  ];
  const yStep = yMax / 5;
  for (let y = 0; y <= yMax + 1e-9; y += yStep) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(y)}" y2="${py(y)}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${M.left - 8}" y="${py(y) + 4}" text-anchor="end">${+y.toFixed(1)}</text>`);
  }
  for (const x of xs) {
    out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${px(x)}" y="${H - M.bottom + 18}" text-anchor="middle">${x.toLocaleString("en")}</text>`);
  }
  out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`);
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#333"/>`);
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 10}" text-anchor="middle">${escape(chart.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${escape(chart.yLabel)}</text>`);
  chart.series.forEach((s, i) => {
    const path = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(" ");
    out.push(`<polyline points="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ` stroke-dasharray="6 4"` : ""}/>`);
    if (!s.dashed) for (const [x, y] of s.points) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
    const ly = M.top + 10 + i * 22;
    out.push(`<line x1="${W - M.right + 15}" x2="${W - M.right + 45}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ` stroke-dasharray="6 4"` : ""}/>`);
    out.push(`<text x="${W - M.right + 52}" y="${ly + 4}">${escape(s.name)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** The smallest round number (1, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten) at or above `y`. */
function niceCeil(y: number): number {
  const p = 10 ** Math.floor(Math.log10(y));
  return [1, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * p).find((v) => v >= y)!;
}
