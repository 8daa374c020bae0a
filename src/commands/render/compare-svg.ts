/** compare-garp's chart: median outage per row, grouped by client profile, log-scale y axis, p95 whiskers. Pure. */
import type { CompareResult } from '../../effects/compare/run.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const PALETTE = ['#1565c0', '#2e7d32', '#6a1b9a', '#ef6c00', '#00838f', '#ad1457', '#558b2f', '#4e342e', '#283593', '#827717', '#37474f', '#c62828'];
const ANCHOR_COLORS = ['#9e9e9e', '#757575', '#616161', '#424242'];

/** Log-scale ticks (ms) from 100 ms up to the first power-of-ten step above `maxMs`. */
export function logTicks(maxMs: number): number[] {
  const ticks: number[] = [];
  for (let t = 100; ; t *= 10) {
    for (const k of [1, 2, 5]) {
      const v = t * k;
      ticks.push(v);
      if (v >= maxMs) return ticks;
    }
  }
}

export function renderCompareSvg(r: CompareResult): string {
  const rows = r.rows;
  const groupW = Math.max(120, rows.length * 18 + 30);
  const left = 70;
  const top = 40;
  const plotH = 320;
  const W = left + groupW * r.profiles.length + 20;
  const legendH = 18 * rows.length + 20;
  const H = top + plotH + 60 + legendH;
  const values = r.cells.flatMap((c) => [c.medianMs, c.p95Ms, c.maxMs]).filter((v): v is number => v !== undefined && v > 0);
  const ticks = logTicks(Math.max(1000, ...values));
  const lo = Math.log10(100);
  const hi = Math.log10(ticks[ticks.length - 1]!);
  const y = (ms: number) => top + plotH - ((Math.log10(Math.max(100, ms)) - lo) / (hi - lo)) * plotH;
  let anchorIdx = 0;
  const color = new Map(rows.map((row, i) => [row.label, row.kind === 'anchor' ? ANCHOR_COLORS[anchorIdx++ % ANCHOR_COLORS.length]! : PALETTE[i % PALETTE.length]!]));
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${left}" y="20" font-size="14">Failover outage per strategy and client profile${r.family === 6 ? " (IPv6 VIP)" : ""} (median, whisker to p95; log scale; timers ${esc(r.timers)})</text>`);
  for (const t of ticks) {
    out.push(`<line x1="${left}" x2="${W - 20}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${t >= 1000 ? `${t / 1000} s` : `${t} ms`}</text>`);
  }
  const yd = y(r.deadlineMs).toFixed(1);
  out.push(`<line x1="${left}" x2="${W - 20}" y1="${yd}" y2="${yd}" stroke="#c62828" stroke-dasharray="6 4"/>`);
  out.push(`<text x="${W - 22}" y="${Number(yd) - 4}" text-anchor="end" fill="#c62828">deadtime + 100 ms</text>`);
  r.profiles.forEach((p, gi) => {
    const gx = left + gi * groupW;
    out.push(`<text x="${gx + groupW / 2}" y="${top + plotH + 18}" text-anchor="middle">${esc(p)}</text>`);
    rows.forEach((row, ri) => {
      const c = r.cells.find((x) => x.row === row.label && x.profile === p);
      if (!c?.medianMs) return;
      const x = gx + 15 + ri * 18;
      const yy = y(c.medianMs);
      const fill = color.get(row.label)!;
      out.push(`<rect x="${x}" y="${yy.toFixed(1)}" width="14" height="${(top + plotH - yy).toFixed(1)}" fill="${fill}"${c.unrecovered ? ' fill-opacity="0.5"' : ''}><title>${esc(`${row.label} / ${p}: median ${(c.medianMs / 1000).toFixed(2)} s, n=${c.n}`)}</title></rect>`);
      if (c.p95Ms && c.p95Ms > c.medianMs) out.push(`<line x1="${x + 7}" x2="${x + 7}" y1="${yy.toFixed(1)}" y2="${y(c.p95Ms).toFixed(1)}" stroke="black"/>`);
    });
  });
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="black"/>`);
  out.push(`<line x1="${left}" x2="${W - 20}" y1="${top + plotH}" y2="${top + plotH}" stroke="black"/>`);
  rows.forEach((row, i) => {
    const ly = top + plotH + 40 + i * 18;
    out.push(`<rect x="${left}" y="${ly - 10}" width="12" height="12" fill="${color.get(row.label)}"/>`);
    out.push(`<text x="${left + 18}" y="${ly}">${esc(row.kind === 'anchor' ? `${row.label} (anchor, its own defaults)` : row.kind === 'announce' ? `${row.label} (+ hadiag announce)` : row.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
