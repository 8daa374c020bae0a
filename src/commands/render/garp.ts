/** Text output of garp-check: the host audit, one line per frame, the summary tables. */
import Table from 'cli-table3';
import type { HostAudit, HostAudit6 } from '../../models/resolution/audit.js';
import type { FrameReport, GarpSummary } from '../../models/resolution/garp-watch.js';
import type { SendSummaryRow } from '../../effects/announce/sender.js';

const sec = (ms: number) => `${+(ms / 1000).toFixed(1)} s`;
const rel = (ms: number) => `+${(ms / 1000).toFixed(3)}s`;

export function formatAudit(a: HostAudit): string {
  const s = a.sysctls;
  const lines: string[] = [];
  lines.push(`Host audit of ${a.iface} (${a.mac}${a.addresses.length ? ', ' + a.addresses.join(', ') : ', no IPv4 address'}${a.up ? '' : ', DOWN'})`);
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(22)}${v}`);
  row('arp_accept', `${s.arpAccept}${s.arpAccept === 0 ? '  (announcements update entries, never create them)' : s.arpAccept === 1 ? '  (announcements create entries)' : '  (create entries for on-link senders)'}`);
  row('drop_gratuitous_arp', `${s.dropGratuitousArp ? 1 : 0}${s.dropGratuitousArp ? '  (ignores every sender IP = target IP frame)' : ''}`);
  row('arp_ignore/announce', `${s.arpIgnore}/${s.arpAnnounce}`);
  if (!a.firewall.available) row('ARP firewall', a.firewall.note ?? 'not checked');
  else if (!a.firewall.rules.length) row('ARP firewall', 'no ARP-family nftables rules');
  else {
    row('ARP firewall', `${a.firewall.rules.length} line(s):`);
    for (const r of a.firewall.rules) lines.push(`    ${r}`);
  }
  if (a.firewall.garpRequest) row('firewall on GARP', `for ${a.vip}: request ${a.firewall.garpRequest.verdict}, reply ${a.firewall.garpReply?.verdict ?? '?'}`);
  row(
    'neighbour timers',
    `base_reachable ${sec(s.baseReachableTimeMs)} (reachable ${sec(a.deadMac.reachableMinMs)}–${sec(a.deadMac.reachableMaxMs)}), delay_first_probe ${sec(s.delayFirstProbeTimeMs)}, ucast_solicit ${s.ucastSolicit}, retrans ${sec(s.retransTimeMs)}, mcast_solicit ${s.mcastSolicit}, mcast_resolicit ${s.mcastResolicit}, locktime ${sec(s.locktimeMs)}`,
  );
  if (a.vip) {
    const e = a.entry;
    row(`entry for ${a.vip}`, !e || e.state === 'NONE' ? 'none' : `${e.state}${e.mac ? ' ' + e.mac : ''}${e.updatedS !== undefined ? ` (changed ${e.updatedS} s ago)` : ''}`);
  }
  row('worst case', `up to ${sec(a.deadMac.maxMs)} on a dead MAC if no announcement is accepted`);
  for (const r of a.risks) lines.push(`  risk: ${r}`);
  for (const n of a.notes) lines.push(`  note: ${n}`);
  return lines.join('\n') + '\n';
}

/** The IPv6 side of the audit. */
export function formatAudit6(a: HostAudit6): string {
  const s = a.sysctls;
  const lines: string[] = [];
  lines.push(`IPv6 audit of ${a.iface} (${a.mac}${a.addresses.length ? ', ' + a.addresses.join(', ') : ', no IPv6 address'}${a.up ? '' : ', DOWN'})`);
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(22)}${v}`);
  row('drop_unsolicited_na', `${s.dropUnsolicitedNa ? 1 : 0}${s.dropUnsolicitedNa ? '  (drops every NA without the solicited flag)' : ''}`);
  row('accept_untracked_na', s.acceptUntrackedNa === undefined ? 'not on this kernel (< 5.18)' : `${s.acceptUntrackedNa}${s.acceptUntrackedNa > 0 ? (s.forwarding ? '  (NAs create entries)' : '  (no effect: forwarding=0)') : '  (NAs never create entries)'}`);
  row('forwarding', `${s.forwarding ? 1 : 0}${s.forwarding ? '  (a router: NAs carry the router flag)' : ''}`);
  row('ndisc_notify', `${s.ndiscNotify ? 1 : 0}`);
  row('DAD', `accept_dad ${s.acceptDad}, dad_transmits ${s.dadTransmits}`);
  row('neighbour timers', `base_reachable ${sec(s.baseReachableTimeMs)} (reachable ${sec(a.deadMac.reachableMinMs)}–${sec(a.deadMac.reachableMaxMs)}), delay_first_probe ${sec(s.delayFirstProbeTimeMs)}, ucast_solicit ${s.ucastSolicit}, retrans ${sec(s.retransTimeMs)}, mcast_solicit ${s.mcastSolicit}`);
  if (a.vip) {
    const e = a.entry;
    row('entry for the VIP', `${a.vip}: ${!e || e.state === 'NONE' ? 'none' : `${e.state}${e.mac ? ' ' + e.mac : ''}${e.router ? ' router' : ''}${e.updatedS !== undefined ? ` (changed ${e.updatedS} s ago)` : ''}`}`);
  }
  row('worst case', `up to ${sec(a.deadMac.maxMs)} on a dead MAC if no NA is accepted`);
  for (const r of a.risks) lines.push(`  risk: ${r}`);
  for (const n of a.notes) lines.push(`  note: ${n}`);
  return lines.join('\n') + '\n';
}

function predictionText(r: FrameReport): string {
  const p = r.prediction;
  if (!p) return '';
  const verb =
    p.outcome === 'ignore'
      ? 'IGNORES it'
      : p.outcome === 'create'
        ? `creates ${p.stateAfter} ${p.macAfter}`
        : p.outcome === 'update'
          ? p.accepted
            ? `updates → ${p.stateAfter} ${p.macAfter}`
            : `keeps ${p.macAfter}, → ${p.stateAfter}`
          : `same MAC, ${p.stateAfter}`;
  return `  ⇒ ${r.predictionFor ?? 'this host'} ${verb}: ${p.reason}${p.uncertain ? ` (uncertain: ${p.uncertain})` : ''}`;
}

/** " vlan 20", or every tag of a stack outermost first: " vlans 100,20" (QinQ). */
function vlanText(r: FrameReport): string {
  const ids = r.vlans ?? (r.vlan !== undefined ? [r.vlan] : []);
  if (ids.length === 0) return '';
  return ids.length === 1 ? ` vlan ${ids[0]}` : ` vlans ${ids.join(',')}`;
}

export function formatFrameLine(r: FrameReport): string {
  const t = new Date(r.tsMs).toISOString().slice(11, 23);
  const vlan = vlanText(r);
  const head = `${t} ${rel(r.relMs).padStart(10)}  ${r.ethSrc} → ${r.ethDst || '?'}${vlan}  ${r.op.padEnd(7)} ${r.senderMac} ${r.senderIp} → ${r.targetMac || '-'} ${r.targetIp}  ${r.label}`;
  const lines = [head];
  const p = predictionText(r);
  if (p) lines.push(p);
  for (const w of r.warnings) lines.push(`  ! ${w}`);
  for (const pr of r.problems) if (!r.warnings.some((w) => w.includes(pr))) lines.push(`  ! ${pr}`);
  return lines.join('\n');
}

export interface Verification {
  checked: number;
  matched: number;
  mismatches: string[];
}

export function formatSummary(s: GarpSummary, extra: { send?: SendSummaryRow[]; verification?: Verification; notes?: string[] } = {}): string {
  const out: string[] = [];
  out.push('');
  out.push(`${s.frames} frame(s), ${s.arpFrames} ARP, ${s.reported} reported${Object.keys(s.byKind).length ? ': ' + Object.entries(s.byKind).map(([k, n]) => `${n} ${k}`).join(', ') : ''}`);
  if (s.announcers.length) {
    const t = new Table({ head: ['announced IP', 'by MAC', 'frames', 'forms', 'first', 'last'], style: { head: [], border: [] } });
    for (const a of s.announcers) t.push([a.ip, a.mac, String(a.count), Object.entries(a.forms).map(([k, n]) => `${n}× ${k}`).join('\n'), rel(a.firstRelMs), rel(a.lastRelMs)]);
    out.push(t.toString());
  }
  if (s.takeovers.length) {
    out.push('Owner changes:');
    for (const t of s.takeovers) out.push(`  ${rel(t.relMs)}  ${t.ip} → ${t.mac}${t.previousMac ? ` (was ${t.previousMac})` : ''}: ${t.announcements} announcement(s) over ${sec(t.lastAnnouncementMs - t.tsMs)}`);
  }
  if (extra.send?.length) {
    const t = new Table({ head: ['--send', 'form', 'sent', 'seen', 'seen after', 'stock client, entry elsewhere', 'stock client, no entry'], style: { head: [], border: [] } });
    for (const r of extra.send) t.push([r.spec, r.form, String(r.sent), String(r.seen), r.medianSeenAfterMs !== undefined ? `${r.medianSeenAfterMs.toFixed(2)} ms` : '-', r.stockWithEntry, r.stockNoEntry]);
    out.push(t.toString());
  }
  if (extra.verification && extra.verification.checked) {
    const v = extra.verification;
    out.push(`Predictions checked against the kernel: ${v.matched}/${v.checked} matched`);
    for (const m of v.mismatches) out.push(`  mismatch: ${m}`);
  }
  for (const w of s.warnings) out.push(`warning (${w.code}): ${w.message}`);
  for (const n of extra.notes ?? []) out.push(`note: ${n}`);
  for (const c of s.conclusions) out.push(`conclusion: ${c}`);
  return out.join('\n') + '\n';
}
