/**
 * The lab faults that reproduce the causes of a slow takeover measure-failover names (docs/measure-failover.md):
 * - `stp-takeover=S`: the VIP holder's link goes down and, at that moment, the other server's bridge port goes
 *   through S seconds of STP listening (S/2) and learning (S/2) before it forwards (port-not-forwarding);
 * - `switch-drop-arp [HOST]`: the bridge drops broadcast ARP from the VIP towards a client's port (every client
 *   by default) — gratuitous ARP and directed requests never arrive, a reply to the client's own request does
 *   (dropped-on-path; no-announcement from the client alone); `switch-drop-arp=off` ends it;
 * - `no-announce [HOST]`: the VIP moves from its holder to HOST (the other server by default) with `ip addr`,
 *   announcing nothing (not-sent; no-announcement from the client alone).
 * Port states are set by hand (`bridge link set … state`), which the kernel allows only with STP off.
 */
import { ipJson, run, runOk } from '../io/exec.js';
import { usageError } from '../../core/errors.js';
import { nowMs, sleep } from '../../core/clock.js';
import { clients, labHost, labVips, servers, type LabHost, type LabState } from './types.js';
import { vipView } from './vip.js';

export type TakeoverFaultKind = 'stp-takeover' | 'switch-drop-arp' | 'no-announce';

export const TAKEOVER_FAULTS: { usage: string; summary: string }[] = [
  { usage: 'stp-takeover=SECONDS', summary: "the VIP holder's link goes down and the other server's bridge port goes through SECONDS of STP listening/learning (0.2–60 s; STP off on the bridge); returns once it forwards" },
  { usage: 'switch-drop-arp [HOST]', summary: "the bridge drops broadcast ARP from the VIP towards HOST's port (every client by default); switch-drop-arp=off ends it" },
  { usage: 'no-announce [HOST]', summary: 'move the VIP from its holder to HOST (the other server by default) with ip addr, announcing nothing' },
];

export function parseTakeoverFault(t: string): { kind: TakeoverFaultKind; value?: number; off?: boolean } | undefined {
  if (t === 'switch-drop-arp') return { kind: 'switch-drop-arp' };
  if (t === 'switch-drop-arp=off') return { kind: 'switch-drop-arp', off: true };
  if (t === 'no-announce') return { kind: 'no-announce' };
  const m = /^stp-takeover=(\d+(?:\.\d+)?)$/.exec(t);
  if (!m) {
    if (t.startsWith('stp-takeover')) throw usageError(`stp-takeover needs a time: "${t}"`, 'KIND', 'write stp-takeover=SECONDS, e.g. stp-takeover=3');
    return undefined;
  }
  const value = Number(m[1]);
  if (value < 0.2 || value > 60) throw usageError(`stp-takeover ${value} s is outside 0.2–60 s`, 'KIND', 'write stp-takeover=0.2 … stp-takeover=60');
  return { kind: 'stp-takeover', value };
}

async function holderOf(lab: LabState, kind: string): Promise<LabHost> {
  const v = await vipView(lab);
  if (v.holders.length !== 1) throw usageError(`cannot pick a host for ${kind}: ${v.holders.length} servers hold the VIP (${v.holders.join(', ') || 'none'})`, 'HOST', 'wait until one server holds the VIP (hadiag lab status)');
  return labHost(lab, v.holders[0]!);
}

function otherServer(lab: LabState, h: LabHost): LabHost {
  const o = servers(lab).find((s) => s.name !== h.name);
  if (!o) throw usageError('the lab has one server', 'HOST', 'a takeover needs two servers');
  return o;
}

/** Apply one of these faults; `atMs` is when it took effect (for stp-takeover: the link down and the port blocked). */
export async function applyTakeoverFault(lab: LabState, spec: { kind: string; value?: number; off?: boolean }, hostName?: string): Promise<{ host?: LabHost; detail: string; atMs?: number }> {
  if (spec.kind === 'stp-takeover') return stpTakeover(lab, spec.value!);
  if (spec.kind === 'switch-drop-arp') return switchDropArp(lab, spec.off === true, hostName);
  if (spec.kind === 'no-announce') return noAnnounce(lab, hostName);
  throw usageError(`unknown fault "${spec.kind}"`, 'KIND', 'see hadiag lab fault --help');
}

async function stpTakeover(lab: LabState, seconds: number): Promise<{ host: LabHost; detail: string; atMs: number }> {
  const br = await ipJson<{ linkinfo?: { info_data?: { stp_state?: number } } }[]>(['-d', 'link', 'show', lab.bridge], lab.bridgeNetns);
  if (br[0]?.linkinfo?.info_data?.stp_state) throw usageError('stp-takeover sets port states by hand, which the bridge refuses with STP on', 'KIND', 'turn STP off first: hadiag lab fault stp-delay=0');
  const old = await holderOf(lab, 'stp-takeover');
  const neu = otherServer(lab, old);
  const port = ['bridge', '-n', lab.bridgeNetns, 'link', 'set', 'dev', neu.bridgePort, 'state'];
  await runOk([...port, '1']);
  await runOk(['ip', '-n', old.netns, 'link', 'set', old.ifname, 'down']);
  const atMs = nowMs();
  lab.lastLinkDown = old.name;
  try {
    await sleep((seconds * 1000) / 2);
    await runOk([...port, '2']);
    await sleep((seconds * 1000) / 2);
  } finally {
    await run([...port, '3']);
  }
  return { host: old, atMs, detail: `${old.name} ${old.ifname} down; ${neu.name}'s port ${neu.bridgePort} listening ${seconds / 2} s, learning ${seconds / 2} s, forwarding since ${new Date(nowMs()).toISOString()}` };
}

/** The nft table of switch-drop-arp (its own, so the partition/loss table is untouched). */
export function dropArpRuleset(lab: LabState, ports: string[]): string {
  const v4 = labVips(lab, 4).map((v) => v.address);
  const from = v4.length === 1 ? v4[0]! : `{ ${v4.join(', ')} }`;
  const rules = ports.map((p) => `    oifname "${p}" ether daddr ff:ff:ff:ff:ff:ff arp saddr ip ${from} counter drop comment "switch-drop-arp"`);
  return ['table bridge hadiag_arp', 'delete table bridge hadiag_arp', ...(ports.length ? ['table bridge hadiag_arp {', '  chain forward {', '    type filter hook forward priority -1; policy accept;', ...rules, '  }', '}'] : []), ''].join('\n');
}

async function switchDropArp(lab: LabState, off: boolean, hostName?: string): Promise<{ host?: LabHost; detail: string }> {
  if (!labVips(lab, 4).length) throw usageError(`switch-drop-arp drops ARP, and lab ${lab.id} has no IPv4 VIP`, 'KIND', 'use it on a lab with --family 4 (the default); an IPv6 form is not built');
  const targets = hostName ? [labHost(lab, hostName)] : clients(lab);
  await runOk(['ip', 'netns', 'exec', lab.bridgeNetns, 'nft', '-f', '-'], { input: dropArpRuleset(lab, off ? [] : targets.map((h) => h.bridgePort)) });
  const names = targets.map((h) => h.name).join(', ');
  const what = labVips(lab, 4).length > 1 ? `the ${labVips(lab, 4).length} IPv4 VIPs` : labVips(lab, 4)[0]!.address;
  const r: { host?: LabHost; detail: string } = { detail: off ? 'broadcast ARP from the VIP forwarded again' : `broadcast ARP from ${what} dropped towards ${names}` };
  if (hostName) r.host = targets[0]!;
  return r;
}

async function noAnnounce(lab: LabState, hostName?: string): Promise<{ host: LabHost; detail: string }> {
  const old = await holderOf(lab, 'no-announce');
  const to = hostName ? labHost(lab, hostName) : otherServer(lab, old);
  if (to.role !== 'server' || to.name === old.name) throw usageError(`cannot move the VIP to ${to.name}`, 'HOST', `name the other server (${otherServer(lab, old).name})`);
  const addrs = await ipJson<{ ifname: string; addr_info?: { local: string; prefixlen: number }[] }[]>(['addr', 'show'], old.netns);
  const found = labVips(lab).map((v) => {
    const dev = addrs.find((a) => a.addr_info?.some((i) => i.local === v.address));
    if (!dev) throw usageError(`${old.name} does not hold ${v.address} any more`, 'HOST', 'see hadiag lab status');
    return { v, dev: dev.ifname, len: dev.addr_info!.find((i) => i.local === v.address)!.prefixlen };
  });
  // all deletes in one batch (-force: past the ones a manager removed itself on seeing the first go, as keepalived does)
  await run(['ip', '-n', old.netns, '-force', '-batch', '-'], { input: found.map((f) => `addr del ${f.v.address}/${f.len} dev ${f.dev}\n`).join('') });
  // nodad: a DAD probe would be a frame about the VIP; this fault announces nothing
  await runOk(['ip', '-n', to.netns, '-batch', '-'], { input: found.map((f) => `addr add ${f.v.address}/${f.len} dev ${to.ifname}${f.v.family === 6 ? ' nodad' : ''}\n`).join('') });
  const moved = found.map((f) => `${f.v.address}/${f.len}`);
  const fromIf = found[0]!.dev;
  const what = moved.length > 1 ? `${moved.length} VIPs (${moved[0]} …)` : moved[0]!;
  return { host: to, detail: `${what} moved from ${old.name} ${fromIf} to ${to.name} ${to.ifname}, no announcement` };
}
