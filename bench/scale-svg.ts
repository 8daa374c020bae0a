/**
 * The scale bench's chart: per row (manager/strategy), the last client's re-point time and the new holder's
 * takeover CPU against the (client, VIP) pairs of the run (the announcement work: clients × VIPs), log scales;
 * several runs of one cell are one point, their median.
 */
import type { ScaleRow } from './scale.js';
import { median } from '../src/core/stats.js';

const pairs = (r: ScaleRow): number => r.clients * r.vips;

const W = 860;
const H = 360;
const COLORS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function panel(rows: ScaleRow[], x0: number, title: string, value: (r: ScaleRow) => number | undefined, unit: (v: number) => string, bar?: number): string[] {
  const pw = 340;
  const ph = 230;
  const y0 = 50;
  const cells = new Map<string, { r: ScaleRow; vs: number[] }>();
  for (const r of rows) {
    const v = value(r);
    if (v === undefined || v <= 0) continue;
    const key = `${r.manager} ${r.strategy} ${pairs(r)}`;
    const c = cells.get(key) ?? cells.set(key, { r, vs: [] }).get(key)!;
    c.vs.push(v);
  }
  const pts = [...cells.values()].map((c) => ({ r: c.r, x: pairs(c.r), v: median(c.vs)! }));
  if (!pts.length) return [];
  const xs = [...new Set(rows.map(pairs))].sort((a, b) => a - b);
  const lx = (n: number) => x0 + (xs.length > 1 ? ((Math.log10(n) - Math.log10(xs[0]!)) / (Math.log10(xs.at(-1)!) - Math.log10(xs[0]!) || 1)) * pw : pw / 2);
  const lo = Math.floor(Math.log10(Math.min(...pts.map((p) => p.v), bar ?? Infinity)));
  const hi = Math.ceil(Math.log10(Math.max(...pts.map((p) => p.v), bar ?? 0))) || lo + 1;
  const ly = (v: number) => y0 + ph - ((Math.log10(v) - lo) / Math.max(1, hi - lo)) * ph;
  const out = [`<text x="${x0}" y="${y0 - 14}" font-weight="bold">${esc(title)}</text>`, `<rect x="${x0}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`];
  for (let e = lo; e <= hi; e++) out.push(`<line x1="${x0}" x2="${x0 + pw}" y1="${ly(10 ** e)}" y2="${ly(10 ** e)}" stroke="#eee"/><text x="${x0 - 6}" y="${ly(10 ** e) + 4}" text-anchor="end" font-size="11">${unit(10 ** e)}</text>`);
  for (const n of xs) out.push(`<text x="${lx(n)}" y="${y0 + ph + 16}" text-anchor="middle" font-size="11">${n}</text>`);
  out.push(`<text x="${x0 + pw / 2}" y="${y0 + ph + 32}" text-anchor="middle" font-size="11">clients × VIPs (each client talks to one VIP)</text>`);
  if (bar) out.push(`<line x1="${x0}" x2="${x0 + pw}" y1="${ly(bar)}" y2="${ly(bar)}" stroke="#c00" stroke-dasharray="4 3"/><text x="${x0 + pw - 4}" y="${ly(bar) - 4}" text-anchor="end" font-size="10" fill="#c00">deadtime + 100 ms</text>`);
  const series = [...new Set(rows.map((r) => `${r.manager} ${r.strategy}`))];
  series.forEach((name, i) => {
    const mine = pts.filter((p) => `${p.r.manager} ${p.r.strategy}` === name).sort((a, b) => a.x - b.x);
    const c = COLORS[i % COLORS.length]!;
    if (mine.length > 1) out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${mine.map((p) => `${lx(p.x).toFixed(1)},${ly(p.v).toFixed(1)}`).join(' ')}"/>`);
    for (const p of mine) out.push(`<circle cx="${lx(p.x).toFixed(1)}" cy="${ly(p.v).toFixed(1)}" r="3" fill="${c}"/>`);
  });
  return out;
}

export function renderScaleSvg(rows: ScaleRow[]): string {
  const series = [...new Set(rows.map((r) => `${r.manager} ${r.strategy}`))];
  const secs = (v: number) => (v >= 1000 ? `${v / 1000} s` : `${v} ms`);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    ...panel(rows, 70, 'last client re-pointed after the fault', (r) => r.maxRepointMs, secs, rows[0] ? rows[0].deadtimeMs + 100 : undefined),
    ...panel(rows, 500, "new holder's CPU during the takeover", (r) => (r.cpuMs > 0 ? r.cpuMs : undefined), secs),
  ];
  series.forEach((name, i) => out.push(`<rect x="${70 + i * 200}" y="${H - 28}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${84 + i * 200}" y="${H - 19}" font-size="11">${esc(name.length > 30 ? name.slice(0, 29) + '…' : name)}</text>`));
  out.push('</svg>');
  return out.join('\n') + '\n';
}
