import type { Analysis } from '../../models/measure/analyze.js';
import type { NeighEvent, Probe, WireEvent } from '../../models/measure/events.js';
import { neighStateOf } from '../../models/measure/neigh-events.js';

export interface SvgInput {
  analysis: Analysis;
  probes: Probe[];
  wire: WireEvent[];
  neigh: NeighEvent[];
  /** show this window (epoch ms); default: around the outages, else the whole run */
  fromMs?: number;
  toMs?: number;
}

const STATE_COLOR: Record<string, string> = {
  REACHABLE: '#2e7d32',
  STALE: '#f9a825',
  DELAY: '#ef6c00',
  PROBE: '#d84315',
  FAILED: '#b71c1c',
  INCOMPLETE: '#6a1b9a',
  DELETED: '#9e9e9e',
  NONE: '#9e9e9e',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The drawing area shared by the lanes: the time window, its x scale and the reference point of the axis. */
interface Plot {
  a: Analysis;
  from: number;
  to: number;
  x: (t: number) => number;
  /** t0 of the axis: the first outage's reference point */
  ref: number;
}

const W = 1000;
const LEFT = 130;
const RIGHT = 20;
const PLOT_W = W - LEFT - RIGHT;
const LANES = ['probes', 'ARP', 'neighbour', 'cluster', 'segments'];
const SEGMENT_COLOR: Record<string, string> = { detection: '#546e7a', announce: '#8e24aa', path: '#d81b60', client: '#f4511e', traffic: '#7cb342' };
const LANE_H = 50;
const TOP = 50;
const H = TOP + LANES.length * LANE_H + 60;

/** A hand-written SVG timeline with four lanes: probes, ARP, neighbour state, cluster traffic. */
export function renderSvg(inp: SvgInput): string {
  const plot = plotOf(inp);
  const { a } = plot;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<title>hadiag measure-failover ${esc(a.vip)}</title>`);
  parts.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="10" y="20" font-size="14" font-weight="bold">${esc(`VIP ${a.vip}${a.iface ? ` on ${a.iface}` : ''}: ${a.outages.length} outage(s)`)}</text>`);
  parts.push(`<text x="10" y="38" fill="#444">${esc(a.outages.map((o) => `#${o.index} ${o.durationMs !== undefined ? (o.durationMs / 1000).toFixed(3) + ' s' : 'not recovered'} (${o.diagnosis.cause})`).join('   '))}</text>`);
  LANES.forEach((name, i) => {
    const y = TOP + i * LANE_H;
    parts.push(`<rect x="${LEFT}" y="${y + 5}" width="${PLOT_W}" height="${LANE_H - 10}" fill="${i % 2 ? '#fafafa' : '#f3f3f3'}"/>`);
    parts.push(`<text x="10" y="${y + LANE_H / 2 + 4}">${name === 'ARP' && a.vip.includes(':') ? 'ND' : name}</text>`);
  });
  // outages shaded across all lanes
  for (const o of a.outages) {
    const x1 = plot.x(o.startTsMs);
    const x2 = plot.x(o.endTsMs ?? plot.to);
    parts.push(`<rect x="${x1.toFixed(1)}" y="${TOP}" width="${Math.max(1, x2 - x1).toFixed(1)}" height="${LANES.length * LANE_H}" fill="#e53935" fill-opacity="0.08"><title>outage #${o.index}</title></rect>`);
  }
  // degraded periods (scattered loss): hatched across the probe lane, with their rate
  for (const d of a.degraded ?? []) {
    const x1 = plot.x(d.fromTsMs);
    const x2 = plot.x(d.toTsMs);
    parts.push(`<rect x="${x1.toFixed(1)}" y="${TOP + 2}" width="${Math.max(1, x2 - x1).toFixed(1)}" height="${LANE_H - 4}" fill="none" stroke="#fb8c00" stroke-width="2" stroke-dasharray="4,2"><title>${esc(`degraded: ${(d.lossRate * 100).toFixed(1)} % lost, ${d.lost} probes in ${d.lossRuns} runs`)}</title></rect>`);
  }
  for (const lane of [probeLane(plot, inp.probes), arpLane(plot, inp.wire), neighbourLane(plot, inp.neigh), clusterLane(plot, inp.wire), segmentLane(plot), timeAxis(plot)]) for (const line of lane) parts.push(line);
  parts.push(
    `<text x="10" y="${H - 8}" fill="#666" font-size="10">probes: green answered, red lost · ARP (IPv6: ND): blue announcement, teal other from the VIP, orange unicast probe, purple broadcast request (from this host) · neighbour: green REACHABLE, yellow STALE, orange DELAY, red PROBE/FAILED, purple INCOMPLETE · segments (--server-capture): detection, announce, path, client, traffic · dashed orange: degraded (scattered loss)</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** The window shown: the one asked for, else around the outages, else the whole run. */
function plotOf(inp: SvgInput): Plot {
  const a = inp.analysis;
  const all = timeSpan(inp);
  let from = inp.fromMs ?? (a.outages.length ? minOf(a.outages, (o) => o.lastOkTsMs ?? o.startTsMs) - 2000 : all.from);
  let to = inp.toMs ?? (a.outages.length ? -minOf(a.outages, (o) => -(o.endTsMs ?? a.runEndTsMs ?? all.to)) + 2000 : all.to);
  if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) {
    from = 0;
    to = 1;
  }
  const x = (t: number) => LEFT + ((Math.min(Math.max(t, from), to) - from) / (to - from)) * PLOT_W;
  return { a, from, to, x, ref: a.outages[0]?.refTsMs ?? from };
}

/** The smallest of f over xs (a loop: a spread of a long run overflows the stack). */
function minOf<T>(xs: readonly T[], f: (x: T) => number): number {
  let m = Infinity;
  for (const x of xs) m = Math.min(m, f(x));
  return m;
}

/** The first and last time of the probes and captured events. */
function timeSpan(inp: SvgInput): { from: number; to: number } {
  let from = Infinity;
  let to = -Infinity;
  const see = (t: number | undefined) => {
    if (t === undefined || !Number.isFinite(t)) return;
    from = Math.min(from, t);
    to = Math.max(to, t);
  };
  for (const p of inp.probes) see(p.sentTsMs ?? p.replyTsMs);
  for (const e of inp.wire) see(e.tsMs);
  return { from, to };
}

/** lane 1: probes — answered (green) / unanswered (red), merged into runs */
function probeLane({ a, from, to, x }: Plot, probes: Probe[]): string[] {
  const parts: string[] = [];
  const yP = TOP + 10;
  let runStart: number | undefined;
  let runOk = false;
  let runEnd = 0;
  const flush = () => {
    if (runStart === undefined) return;
    parts.push(`<rect x="${x(runStart).toFixed(1)}" y="${yP}" width="${Math.max(1, x(runEnd) - x(runStart)).toFixed(1)}" height="${LANE_H - 20}" fill="${runOk ? '#43a047' : '#e53935'}"/>`);
  };
  for (const p of probes) {
    const t = p.sentTsMs ?? p.replyTsMs;
    if (t === undefined || t < from || t > to) continue;
    const ok = p.replyTsMs !== undefined;
    if (runStart === undefined || ok !== runOk) {
      flush();
      runStart = t;
      runOk = ok;
    }
    runEnd = t + a.intervalMs;
  }
  flush();
  return parts;
}

/** lane 2: ARP frames concerning the VIP (IPv6: NS/NA read as ARP, frames.ts) */
function arpLane({ a, from, to, x, ref }: Plot, wire: WireEvent[]): string[] {
  const parts: string[] = [];
  const yA = TOP + LANE_H;
  for (const e of wire) {
    if (e.kind !== 'arp' || e.tsMs < from || e.tsMs > to) continue;
    if (e.senderIp !== a.vip && e.targetIp !== a.vip) continue;
    const fromClient = a.client.mac ? e.srcMac === a.client.mac : e.senderIp !== a.vip;
    const color = fromClient ? (e.dstMac === 'ff:ff:ff:ff:ff:ff' ? '#6a1b9a' : '#ef6c00') : e.senderIp === e.targetIp ? '#1565c0' : '#00838f';
    const label = `${((e.tsMs - ref) / 1000).toFixed(3)} s ${e.nd ? `${e.nd.msg.kind.toUpperCase()}${e.nd.msg.kind === 'na' ? ` [${e.nd.msg.solicited ? 'S' : ''}${e.nd.msg.override ? 'O' : ''}]` : ''}` : e.op} ${e.senderIp} (${e.senderMac}) → ${e.targetIp} to ${e.nd?.ethDst || e.dstMac}`;
    const xx = x(e.tsMs).toFixed(1);
    parts.push(`<line x1="${xx}" y1="${yA + (fromClient ? 25 : 8)}" x2="${xx}" y2="${yA + (fromClient ? 42 : 25)}" stroke="${color}" stroke-width="2"><title>${esc(label)}</title></line>`);
  }
  return parts;
}

/** lane 3: neighbour state of the VIP */
function neighbourLane({ a, from, to, x, ref }: Plot, neigh: NeighEvent[]): string[] {
  const parts: string[] = [];
  const yN = TOP + 2 * LANE_H;
  const ns = neigh.filter((n) => n.ip === a.vip).sort((p, q) => p.tsMs - q.tsMs);
  ns.forEach((n, i) => {
    const st = neighStateOf(n);
    const t1 = Math.max(n.tsMs, from);
    const t2 = Math.min(ns[i + 1]?.tsMs ?? to, to);
    if (t2 < from || t1 > to) return;
    parts.push(`<rect x="${x(t1).toFixed(1)}" y="${yN + 10}" width="${Math.max(1, x(t2) - x(t1)).toFixed(1)}" height="${LANE_H - 20}" fill="${STATE_COLOR[st] ?? '#9e9e9e'}"><title>${esc(`${st} ${n.lladdr ?? ''} at ${((n.tsMs - ref) / 1000).toFixed(3)} s`)}</title></rect>`);
    if (x(t2) - x(t1) > 50) parts.push(`<text x="${(x(t1) + 3).toFixed(1)}" y="${yN + LANE_H / 2 + 4}" fill="#fff" font-size="10">${st}</text>`);
  });
  return parts;
}

/** lane 4: cluster traffic, one row per source */
function clusterLane({ from, to, x }: Plot, wire: WireEvent[]): string[] {
  const parts: string[] = [];
  const yC = TOP + 3 * LANE_H;
  const srcs = [...new Set(wire.filter((e) => e.kind === 'cluster').map((e) => (e as { srcIp: string }).srcIp))];
  for (const e of wire) {
    if (e.kind !== 'cluster' || e.tsMs < from || e.tsMs > to) continue;
    const row = srcs.indexOf(e.srcIp);
    const yy = yC + 8 + (row % 3) * 12;
    parts.push(`<line x1="${x(e.tsMs).toFixed(1)}" y1="${yy}" x2="${x(e.tsMs).toFixed(1)}" y2="${yy + 10}" stroke="${['#37474f', '#8d6e63', '#5c6bc0'][row % 3]}"><title>${esc(`${e.proto} from ${e.srcIp}`)}</title></line>`);
  }
  return parts;
}

/** time axis, seconds relative to the reference point */
function timeAxis({ from, to, x, ref }: Plot): string[] {
  const parts: string[] = [];
  const yT = TOP + LANES.length * LANE_H + 15;
  const span = (to - from) / 1000;
  const step = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120].find((s) => span / s <= 12) ?? 300;
  const firstTick = Math.ceil((from - ref) / 1000 / step) * step;
  for (let s = firstTick; ref + s * 1000 <= to; s += step) {
    const xx = x(ref + s * 1000).toFixed(1);
    parts.push(`<line x1="${xx}" y1="${TOP}" x2="${xx}" y2="${yT - 5}" stroke="#ccc" stroke-dasharray="2,3"/>`);
    parts.push(`<text x="${xx}" y="${yT + 8}" text-anchor="middle" fill="#444">${s >= 0 ? '+' : ''}${Number(s.toFixed(1))} s</text>`);
  }
  return parts;
}

/** lane 5: the cross-host segments of each outage (with --server-capture), the dominant one outlined */
function segmentLane({ a, x }: Plot): string[] {
  const parts: string[] = [];
  const yS = TOP + 4 * LANE_H;
  for (const o of a.outages) {
    for (const sgm of o.crossHost?.segments ?? []) {
      const x1 = x(sgm.fromTsMs);
      const x2 = x(sgm.toTsMs);
      const dominant = o.crossHost!.dominant === sgm.name;
      parts.push(`<rect x="${x1.toFixed(1)}" y="${yS + 10}" width="${Math.max(1, x2 - x1).toFixed(1)}" height="${LANE_H - 20}" fill="${SEGMENT_COLOR[sgm.name] ?? '#999'}"${dominant ? ' stroke="#000" stroke-width="2"' : ''}><title>${esc(`${sgm.name}: ${sgm.from} → ${sgm.to}, ${(sgm.ms / 1000).toFixed(3)} s${dominant ? ' (dominant)' : ''}`)}</title></rect>`);
      if (x2 - x1 > 50) parts.push(`<text x="${(x1 + 3).toFixed(1)}" y="${yS + LANE_H / 2 + 4}" fill="#fff" font-size="10">${sgm.name}</text>`);
    }
  }
  return parts;
}
