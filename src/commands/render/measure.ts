import Table from 'cli-table3';
import { degradedSentence, type Analysis, type OutageReport } from '../../models/measure/analyze.js';

export const TIMESTAMP_SOURCES = {
  probes: 'iputils ping -D -O: its own µs clock reading per reply line; send time = reply − ping’s rtt; lost probes interpolated on ping’s fixed schedule (exact below 10 ms intervals)',
  capture: 'tcpdump -U -w - pipe: kernel receive timestamps, µs',
  neighbour: 'ip -ts monitor neigh: ip’s clock reading when it read the netlink event, µs print (≲ 1 ms after the kernel change)',
  precision: 'all one clock (CLOCK_REALTIME); an outage’s start is known to one probe interval, its end to ~0.2 ms',
};

const clock = (ts: number) => {
  const d = new Date(ts);
  return `${d.toISOString().slice(11, 19)}.${String(Math.floor((ts % 1000) * 1000)).padStart(6, '0')}`;
};
const secs = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
const relText = (ms: number) => `${ms >= 0 ? '+' : '−'}${(Math.abs(ms) / 1000).toFixed(3)} s`;

export function renderOutage(o: OutageReport): string {
  const lines: string[] = [];
  const end = o.endTsMs !== undefined ? clock(o.endTsMs) : 'not recovered';
  lines.push(`Outage #${o.index}: ${clock(o.startTsMs)} → ${end} UTC, ${o.durationMs !== undefined ? secs(o.durationMs) : `≥ ${secs((o.timeline.at(-1)?.tsMs ?? o.startTsMs) - o.startTsMs)}`} (${o.lostProbes} probes lost${o.replyGapMs !== undefined ? `; reply gap ${secs(o.replyGapMs)}` : ''})`);
  lines.push(`  MAC before ${o.macBefore ?? '?'}, after ${o.macAfter ?? (o.recovered ? '?' : '—')}`);
  lines.push(`  timeline (${o.timeline[0]?.kind === 'trigger' ? 'from the trigger t0' : 'from the first lost probe'}):`);
  for (const e of o.timeline) lines.push(`    ${relText(e.relMs).padStart(10)}  ${e.text}`);
  if (o.crossHost) lines.push(...renderCrossHost(o));
  lines.push(`  diagnosis: ${o.diagnosis.sentence}`);
  if (o.diagnosis.evidence.length) {
    lines.push('  evidence:');
    for (const e of o.diagnosis.evidence) lines.push(`    - ${e}`);
  }
  if (o.diagnosis.fixes.length) {
    lines.push('  fixes, best first:');
    for (const f of o.diagnosis.fixes) {
      lines.push(`    ${f.rank}. [${f.side}] ${f.title} — ${f.detail}`);
      if (f.snippet) for (const l of f.snippet.split('\n')) lines.push(`         ${l}`);
    }
  }
  return lines.join('\n');
}

/** The timeline across hosts: each server's clock offset, the points on the client's clock, the segments. */
function renderCrossHost(o: OutageReport): string[] {
  const x = o.crossHost!;
  const err = (s: (typeof x.servers)[number]) => (s.residualMs !== undefined ? `± ${s.residualMs.toFixed(3)} ms` : `(${s.via === 'arp' ? 'ARP' : 'echo'} ${s.oneWay ?? ''} only: off by the one-way delay and the server's stamping latency; spread ${s.spreadMs?.toFixed(3) ?? '?'} ms)`);
  const offs = x.servers.map((s) => `${s.name} ${s.offsetMs === undefined ? 'offset unknown (no frame seen at both ends)' : `${s.offsetMs >= 0 ? '+' : '−'}${Math.abs(s.offsetMs).toFixed(3)} ms ${err(s)}`}`);
  const lines = [`  across hosts (server clock − client clock: ${offs.join('; ')}):`];
  for (const p of x.points) lines.push(`    ${relText(p.tsMs - o.refTsMs).padStart(10)}  ${p.label}`);
  if (x.segments.length) lines.push(`  segments: ${x.segments.map((s) => `${s.name} ${secs(s.ms)}${s.name === x.dominant ? ' (dominant)' : ''}`).join(', ')}`);
  return lines;
}

export function renderSummaryTable(a: Analysis): string {
  const t = new Table({ head: ['#', 'start (UTC)', 'duration', 'lost', 'MAC before', 'MAC after', 'cause'], style: { head: [], border: [] } });
  for (const o of a.outages) {
    t.push([String(o.index), clock(o.startTsMs), o.durationMs !== undefined ? secs(o.durationMs) : 'not recovered', String(o.lostProbes), o.macBefore ?? '?', o.macAfter ?? '?', o.diagnosis.cause]);
  }
  return t.toString();
}

export function renderReport(a: Analysis, extra: { pcapPath?: string; svgPath?: string; trigger?: { command: string; exitCode?: number } } = {}): string {
  const out: string[] = [];
  const who = a.client.ip || a.client.mac ? ` (client ${[a.client.ip, a.client.mac].filter(Boolean).join(' ')})` : '';
  out.push(`measure-failover: VIP ${a.vip}${a.iface ? ` on ${a.iface}` : ''}${who}: ${a.probesSent} probes every ${Number(a.intervalMs.toFixed(2))} ms, ${a.probesSent - a.probesAnswered} unanswered, ${a.outages.length} outage(s)`);
  if (extra.trigger) out.push(`trigger: \`${extra.trigger.command}\`${extra.trigger.exitCode !== undefined ? ` (exit ${extra.trigger.exitCode})` : ''} at t0`);
  out.push('');
  for (const o of a.outages) out.push(renderOutage(o), '');
  if (a.outages.length) out.push(renderSummaryTable(a));
  out.push(a.outages.length ? '' : a.degraded?.length ? 'No outage (the losses were scattered, see below).' : 'No outage: the VIP answered every probe (isolated single losses aside).');
  for (const d of a.degraded ?? []) out.push(`${degradedSentence(d)}${d.outageSeqs.length ? ` It lengthened outage ${d.outageSeqs.map((q) => `#${a.outages.find((o) => o.firstLostSeq === q)?.index ?? '?'}`).join(', ')}.` : ' Scattered losses, not outages.'}`);
  for (const c of a.conflicts) out.push(`SPLIT BRAIN at ${clock(c.tsMs)} UTC: ${c.evidence} — two nodes hold the VIP; check the cluster link (partition) and fencing/STONITH`);
  if (extra.pcapPath) out.push(`capture: ${extra.pcapPath}`);
  if (extra.svgPath) out.push(`timeline picture: ${extra.svgPath}`);
  out.push(a.problem ? 'result: PROBLEM (exit 1)' : 'result: healthy (exit 0)');
  return out.join('\n') + '\n';
}

/** --watch: one line per outage as it ends. */
export function renderOutageLine(o: OutageReport): string {
  const dur = o.durationMs !== undefined ? secs(o.durationMs) : 'not recovered';
  return `outage #${o.index}: ${new Date(o.startTsMs).toISOString().slice(0, 10)} ${clock(o.startTsMs)} UTC, ${dur}, ${o.lostProbes} probes lost, MAC ${o.macBefore ?? '?'} → ${o.macAfter ?? '?'}, ${o.diagnosis.cause}${o.diagnosis.problem ? ' (PROBLEM)' : ''}: ${o.diagnosis.sentence}\n`;
}

/** --watch: the closing line (SIGINT/SIGTERM). */
export function renderWatchSummary(a: Analysis, kept: number, segments: number): string {
  const ran = a.runStartTsMs !== undefined && a.runEndTsMs !== undefined ? ` for ${secs(a.runEndTsMs - a.runStartTsMs)}` : '';
  const conflicts = (a.conflicts.length ? `, ${a.conflicts.length} split brain(s)` : '') + (a.degraded?.length ? `, ${a.degraded.length} degraded period(s) (scattered loss; worst ${(Math.max(...a.degraded.map((d) => d.lossRate)) * 100).toFixed(1)} %)` : '');
  return `watched ${a.vip}${ran}: ${a.probesSent} probes, ${a.probesSent - a.probesAnswered} unanswered, ${a.outages.length} outage(s)${conflicts}; capture: ${segments} segment(s), ${kept} kept around outages; result: ${a.problem ? 'PROBLEM (exit 1)' : 'healthy (exit 0)'}\n`;
}
