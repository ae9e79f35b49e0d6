import { esc } from './html-escape.js';

export interface Series {
  readonly name: string;
  readonly values: readonly number[];
  /** CSS class: `candidate` (solid) or `baseline` (dashed). */
  readonly kind: 'candidate' | 'baseline';
}

const W = 560;
const H = 170;
const M = { left: 44, right: 12, top: 12, bottom: 30 };

/** A round axis maximum at or above `max`: 1, 2, 5 × 10^n. */
function niceMax(max: number): number {
  if (max <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= max)!;
}

const short = (isoTime: string) => isoTime.replace(/:00\.000Z$|\.000Z$/, 'Z').replace('T', ' ');

/**
 * A line chart as inline SVG: one polyline per series and a circle per data point (with a tooltip), axes with the
 * first and last bucket time. No scripts and no external resources.
 */
export function lineChart(title: string, buckets: readonly string[], series: readonly Series[]): string {
  const n = buckets.length;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (i: number) => M.left + (n <= 1 ? pw / 2 : (i * pw) / (n - 1));
  const y = (v: number) => M.top + ph - (v / max) * ph;
  const r = (v: number) => Math.round(v * 10) / 10;
  const grid = [0, max / 2, max]
    .map((v) => `<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${r(y(v))}" y2="${r(y(v))}"/><text class="tick" x="${M.left - 6}" y="${r(y(v)) + 4}" text-anchor="end">${esc(r(v))}</text>`)
    .join('');
  const axis = n === 0 ? '' : `<text class="tick" x="${M.left}" y="${H - 8}">${esc(short(buckets[0]!))}</text><text class="tick" x="${W - M.right}" y="${H - 8}" text-anchor="end">${esc(short(buckets[n - 1]!))}</text>`;
  const lines = series
    .map((s) => {
      const pts = s.values.map((v, i) => `${r(x(i))},${r(y(v))}`).join(' ');
      const dots = s.values
        .map((v, i) => `<circle class="pt ${s.kind}" cx="${r(x(i))}" cy="${r(y(v))}" r="2.5" data-value="${v}"><title>${esc(`${s.name} ${short(buckets[i] ?? '')}: ${v}`)}</title></circle>`)
        .join('');
      return `<g class="series ${s.kind}" data-series="${esc(s.name)}"><polyline class="line ${s.kind}" points="${pts}"/>${dots}</g>`;
    })
    .join('');
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}" xmlns="http://www.w3.org/2000/svg">${grid}${axis}${lines}</svg>`;
}
