/**
 * The lab faults of ping nodes (ha.cf `ping`, lab up --ping-node) and a separate heartbeat link (lab up
 * --heartbeat-link separate):
 * - `client-link-down [HOST]`: the host's client-facing interface goes down (the VIP holder by default); its
 *   heartbeat interface is untouched, so the peer still hears it — only the ping nodes can move the VIP;
 * - `ping-node-unreachable [HOST]` / `ping-node-reachable [HOST]`: the ping node stops (starts again) answering
 *   that host only — its IP frames to the ping node are dropped where they enter the client bridge, with the
 *   link and every other path up (nftables `table bridge hadiag_ping`, input hook, in the bridge namespace).
 * `link-up HOST` brings a client link back (faults.ts).
 */
import { runOk } from '../io/exec.js';
import { usageError } from '../../core/errors.js';
import { nowMs } from '../../core/clock.js';
import { writeState } from './state.js';
import { labHost, type LabHost, type LabState } from './types.js';
import { vipView } from './vip.js';

export type PingFaultKind = 'client-link-down' | 'ping-node-unreachable' | 'ping-node-reachable';
const KINDS: readonly PingFaultKind[] = ['client-link-down', 'ping-node-unreachable', 'ping-node-reachable'];

export const PING_FAULTS: { usage: string; summary: string }[] = [
  { usage: 'client-link-down [HOST]', summary: "the host's client-facing link goes down, its heartbeat link stays up (lab up --heartbeat-link separate); VIP holder by default; link-up HOST ends it" },
  { usage: 'ping-node-unreachable [HOST]', summary: 'the ping node (lab up --ping-node) stops answering that host only, links up (VIP holder by default)' },
  { usage: 'ping-node-reachable [HOST]', summary: 'the ping node answers that host again' },
];

export function parsePingFault(text: string): { kind: PingFaultKind } | undefined {
  return (KINDS as readonly string[]).includes(text) ? { kind: text as PingFaultKind } : undefined;
}

/** The nftables table that drops the blocked hosts' frames to the ping node (rebuilt whole on each change). */
export function pingBlockRuleset(lab: LabState): string {
  const rules = (lab.net.pingBlocked ?? []).map((name) => `    iifname "${labHost(lab, name).bridgePort}" ip daddr ${lab.pingNode} counter drop comment "ping node unreachable from ${name}"`);
  return ['table bridge hadiag_ping', 'delete table bridge hadiag_ping', 'table bridge hadiag_ping {', '  chain input {', '    type filter hook input priority 0; policy accept;', ...rules, '  }', '}', ''].join('\n');
}

async function holderOrNamed(lab: LabState, kind: string, hostName?: string): Promise<LabHost> {
  if (hostName) return labHost(lab, hostName);
  const v = await vipView(lab);
  if (v.holders.length !== 1) throw usageError(`cannot pick a host for ${kind}: ${v.holders.length} servers hold the VIP (${v.holders.join(', ') || 'none'})`, 'HOST', `name the host: hadiag lab fault ${kind} server1`);
  return labHost(lab, v.holders[0]!);
}

/** Apply a ping fault (undefined for any other kind); records it like faults.ts does and returns when it took effect. */
export async function applyPingFault(lab: LabState, spec: { kind: string }, hostName?: string): Promise<{ kind: string; host: string; atMs: number; detail: string } | undefined> {
  if (!(KINDS as readonly string[]).includes(spec.kind)) return undefined;
  const host = await holderOrNamed(lab, spec.kind, hostName);
  if (host.role !== 'server') throw usageError(`${spec.kind} applies to a server, not ${host.name}`, 'HOST', 'name server1 or server2');
  let detail: string;
  if (spec.kind === 'client-link-down') {
    if (!host.hb) throw usageError('client-link-down needs a separate heartbeat link', 'KIND', 'build the lab with hadiag lab up --heartbeat-link separate, or use link-down (heartbeats die with it)');
    await runOk(['ip', '-n', host.netns, 'link', 'set', host.ifname, 'down']);
    lab.lastLinkDown = host.name;
    detail = `${host.name} ${host.ifname} (client side) down; heartbeat link ${host.hb.ifname} up`;
  } else {
    if (!lab.pingNode) throw usageError(`${spec.kind} needs a ping node`, 'KIND', 'build the lab with hadiag lab up --ping-node');
    const blocked = new Set(lab.net.pingBlocked ?? []);
    if (spec.kind === 'ping-node-unreachable') blocked.add(host.name);
    else blocked.delete(host.name);
    lab.net.pingBlocked = [...blocked];
    await runOk(['ip', 'netns', 'exec', lab.bridgeNetns, 'nft', '-f', '-'], { input: pingBlockRuleset(lab) });
    detail = `ping node ${lab.pingNode} ${spec.kind === 'ping-node-unreachable' ? 'unreachable from' : 'reachable again from'} ${host.name} (links up)`;
  }
  const atMs = nowMs();
  lab.faults.push({ kind: spec.kind, host: host.name, atMs });
  await writeState(lab);
  return { kind: spec.kind, host: host.name, atMs, detail };
}
