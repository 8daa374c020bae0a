import { performance } from 'node:perf_hooks';
import { runOk } from '../io/exec.js';
import { usageError } from '../../core/errors.js';
import { getManager } from './managers/index.js';
import { writeState } from './state.js';
import { labHost, servers, type LabHost, type LabState } from './types.js';
import { vipView } from './vip.js';
import { applyPingFault, parsePingFault, PING_FAULTS, type PingFaultKind } from './ping-faults.js';
import { nowMs } from '../../core/clock.js';
import { applyTakeoverFault, parseTakeoverFault, TAKEOVER_FAULTS, type TakeoverFaultKind } from './takeover-faults.js';

export interface FaultSpec {
  kind: 'link-down' | 'link-up' | 'kill' | 'term' | 'partition' | 'heal' | 'loss' | 'stp-delay' | 'aging' | TakeoverFaultKind | PingFaultKind;
  /** switch-drop-arp=off */
  off?: boolean;
  value?: number;
  /** `primary-link-down`: link-down of server1, the node haresources names */
  primary?: boolean;
}

export const FAULTS: { usage: string; summary: string }[] = [
  { usage: 'link-down [HOST]', summary: "the host's interface goes down (the field report's `ifdown eth0`); HOST defaults to the VIP holder" },
  { usage: 'primary-link-down', summary: 'link-down of server1 (the node haresources / priority prefers)' },
  { usage: 'link-up [HOST]', summary: 'the interface comes back; HOST defaults to the host whose link went down last' },
  { usage: 'kill [HOST]', summary: "SIGKILL every process of the host's manager (VIP holder by default)" },
  { usage: 'term [HOST]', summary: "SIGTERM the host's manager: a graceful stop (VIP holder by default)" },
  { usage: 'partition', summary: 'the servers stop hearing each other; both still reach every client (nftables on the bridge)' },
  { usage: 'heal', summary: 'end the partition' },
  { usage: 'loss=PCT [HOST]', summary: "drop PCT % of frames at random in each direction of the host's bridge port (nftables numgen; loss=0 ends it)" },
  { usage: 'stp-delay=SECONDS', summary: 'bridge STP on with that forward delay (2–30 s): a port that comes back drops frames for 2 × SECONDS (0 = STP off)' },
  { usage: 'aging=SECONDS', summary: 'bridge FDB ageing time (0 = flood every frame to every port; 300 = the default)' },
  ...PING_FAULTS,
  ...TAKEOVER_FAULTS,
];

export function parseFault(text: string): FaultSpec {
  const t = String(text).trim();
  if (t === 'primary-link-down') return { kind: 'link-down', primary: true };
  const ping = parsePingFault(t);
  if (ping) return ping;
  const takeover = parseTakeoverFault(t);
  if (takeover) return takeover;
  if (['link-down', 'link-up', 'kill', 'term', 'partition', 'heal'].includes(t)) return { kind: t as FaultSpec['kind'] };
  const m = /^(loss|stp-delay|aging)=(\d+(?:\.\d+)?)$/.exec(t);
  if (m) {
    const kind = m[1] as 'loss' | 'stp-delay' | 'aging';
    const value = Number(m[2]);
    if (kind === 'loss' && value > 100) throw usageError(`loss ${value} % is more than 100`, 'KIND', 'write loss=0 … loss=100');
    if (kind === 'stp-delay' && value !== 0 && (value < 2 || value > 30 || !Number.isInteger(value))) {
      throw usageError(`stp-delay ${value} s is outside what the bridge accepts`, 'KIND', 'write stp-delay=2 … stp-delay=30 (whole seconds), or stp-delay=0 to turn STP off');
    }
    if (kind === 'aging' && value > 1_000_000) throw usageError(`aging ${value} s is too long`, 'KIND', 'write aging=0 … aging=1000000');
    return { kind, value };
  }
  throw usageError(`unknown fault "${t}"`, 'KIND', `use one of: ${FAULTS.map((f) => f.usage.split(' ')[0]).join(', ')} (hadiag lab profiles)`);
}

export interface FaultResult {
  kind: string;
  host?: string;
  /** epoch milliseconds (µs resolution) right after the change took effect */
  atMs: number;
  detail: string;
}


async function defaultHolder(lab: LabState, kind: string): Promise<LabHost> {
  const v = await vipView(lab);
  if (v.holders.length !== 1) {
    throw usageError(`cannot pick a host for ${kind}: ${v.holders.length} servers hold the VIP (${v.holders.join(', ') || 'none'})`, 'HOST', 'name the host: hadiag lab fault KIND server1');
  }
  return labHost(lab, v.holders[0]!);
}

function serverHost(lab: LabState, name: string, kind: string): LabHost {
  const h = labHost(lab, name);
  if ((kind === 'kill' || kind === 'term') && h.role !== 'server') throw usageError(`${h.name} runs no manager`, 'HOST', 'kill/term apply to server1 or server2');
  return h;
}

/** The whole `table bridge hadiag` for the lab's current partition / loss settings. */
export function bridgeRuleset(lab: LabState): string {
  const rules: string[] = [];
  if (lab.net.partition) {
    const [a, b] = servers(lab).map((s) => s.bridgePort);
    rules.push(`iifname "${a}" oifname "${b}" counter drop comment "partition"`, `iifname "${b}" oifname "${a}" counter drop comment "partition"`);
  }
  for (const [name, pct] of Object.entries(lab.net.loss)) {
    if (!pct) continue;
    const port = labHost(lab, name).bridgePort;
    rules.push(`iifname "${port}" numgen random mod 100 < ${pct} counter drop comment "loss ${name}"`);
    rules.push(`oifname "${port}" numgen random mod 100 < ${pct} counter drop comment "loss ${name}"`);
  }
  return [
    'table bridge hadiag',
    'delete table bridge hadiag',
    'table bridge hadiag {',
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;',
    ...rules.map((r) => `    ${r}`),
    '  }',
    '}',
    '',
  ].join('\n');
}

async function applyBridgeRules(lab: LabState): Promise<void> {
  await runOk(['ip', 'netns', 'exec', lab.bridgeNetns, 'nft', '-f', '-'], { input: bridgeRuleset(lab) });
}

/** Apply one fault to a lab; records it in state.json and returns the epoch time it took effect. */
export async function applyFault(lab: LabState, spec: FaultSpec, hostName?: string): Promise<FaultResult> {
  let host: LabHost | undefined;
  let detail = '';
  const b = ['ip', '-n', lab.bridgeNetns, 'link', 'set', lab.bridge, 'type', 'bridge'];
  const ping = await applyPingFault(lab, spec, hostName);
  if (ping) return ping;
  switch (spec.kind) {
    case 'link-down':
    case 'link-up': {
      if (spec.primary) host = labHost(lab, 'server1');
      else if (hostName) host = labHost(lab, hostName);
      else if (spec.kind === 'link-down') host = await defaultHolder(lab, spec.kind);
      else if (lab.lastLinkDown) host = labHost(lab, lab.lastLinkDown);
      else throw usageError('no link went down yet', 'HOST', 'name the host: hadiag lab fault link-up server1');
      const state = spec.kind === 'link-down' ? 'down' : 'up';
      await runOk(['ip', '-n', host.netns, 'link', 'set', host.ifname, state]);
      if (spec.kind === 'link-down') lab.lastLinkDown = host.name;
      detail = `${host.name} ${host.ifname} ${state}`;
      break;
    }
    case 'kill':
    case 'term': {
      host = hostName ? serverHost(lab, hostName, spec.kind) : await defaultHolder(lab, spec.kind);
      const pids = await getManager(lab.manager).stop(lab, host, spec.kind);
      if (pids.length === 0) throw usageError(`${lab.manager} is not running on ${host.name}`, 'HOST', 'see hadiag lab status');
      detail = `${spec.kind === 'kill' ? 'SIGKILL' : 'SIGTERM'} to ${lab.manager} on ${host.name} (pid ${pids.join(' ')})`;
      break;
    }
    case 'partition':
    case 'heal':
      lab.net.partition = spec.kind === 'partition';
      await applyBridgeRules(lab);
      detail = lab.net.partition ? 'server1 and server2 cannot hear each other' : 'partition healed';
      break;
    case 'loss': {
      host = hostName ? labHost(lab, hostName) : await defaultHolder(lab, 'loss');
      lab.net.loss[host.name] = spec.value!;
      if (!spec.value) delete lab.net.loss[host.name];
      await applyBridgeRules(lab);
      detail = `${spec.value} % random loss each way on ${host.name}'s bridge port ${host.bridgePort}`;
      break;
    }
    case 'stp-delay': {
      const v = spec.value!;
      await runOk(v === 0 ? [...b, 'stp_state', '0'] : [...b, 'forward_delay', String(v * 100), 'stp_state', '1']);
      detail = v === 0 ? 'bridge STP off' : `bridge STP on, forward delay ${v} s (a returning port forwards after ${2 * v} s)`;
      break;
    }
    case 'aging':
      await runOk([...b, 'ageing_time', String(Math.round(spec.value! * 100))]);
      detail = `bridge FDB ageing time ${spec.value} s`;
      break;
    default: {
      const r = await applyTakeoverFault(lab, spec, hostName);
      host = r.host;
      detail = r.detail;
      if (r.atMs !== undefined) {
        lab.faults.push({ kind: spec.kind + (spec.value !== undefined ? `=${spec.value}` : ''), ...(host ? { host: host.name } : {}), atMs: r.atMs });
        await writeState(lab);
        return { kind: spec.kind, ...(host ? { host: host.name } : {}), atMs: r.atMs, detail };
      }
    }
  }
  const atMs = nowMs();
  lab.faults.push({ kind: spec.kind + (spec.value !== undefined ? `=${spec.value}` : ''), ...(host ? { host: host.name } : {}), atMs });
  await writeState(lab);
  return { kind: spec.kind, ...(host ? { host: host.name } : {}), atMs, detail };
}
