/**
 * The ha.d of the two ha.cf-driven rows (heartbeat, hadiag run-node): the same timers, medium, nodes, VIP and
 * key, written by the one writer (models/config/writer.ts); each row adds its logging and comment.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { haCfDuration, writeHaConfig, type HaCfSettings, type HaConfigSettings, type HaConfigTexts, type ResourceSettings } from '../../../models/config/writer.js';
import { ipv6ToBytes } from '../../../codecs/addr.js';
import { labVips, type LabHost, type LabState } from '../types.js';
import type { TimerSpec } from '../timers.js';

export interface HaCfTimersMs {
  keepaliveMs: number;
  deadtimeMs: number;
  warntimeMs: number;
  initdeadMs: number;
}

/** ha.cf timers for a timer spec (classic = the field report's keepalive 1 / deadtime 5). */
export function haCfTimersMs(spec: TimerSpec): HaCfTimersMs {
  const k = Math.round(spec.keepaliveMs);
  const d = Math.round(spec.deadtimeMs);
  const warn = spec.preset === 'classic' ? 3000 : Math.max(2 * k, Math.round(d * 0.6));
  const initdead = spec.preset === 'classic' ? 10_000 : Math.max(2 * d, 2000);
  return { keepaliveMs: k, deadtimeMs: d, warntimeMs: Math.min(warn, d - 1), initdeadMs: initdead };
}

/** The same timers as ha.cf writes them (bare = seconds). */
export function haCfTimerTexts(t: HaCfTimersMs): { keepalive: string; deadtime: string; warntime: string; initdead: string } {
  return { keepalive: haCfDuration(t.keepaliveMs), deadtime: haCfDuration(t.deadtimeMs), warntime: haCfDuration(t.warntimeMs), initdead: haCfDuration(t.initdeadMs) };
}

export interface LabHaDOptions {
  comment: string;
  logging: Pick<HaCfSettings, 'logfile' | 'logfacility' | 'useLogd'>;
  crmNo?: boolean;
  /** the interface the VIP goes on (default: the host's lab interface) */
  vipNic?: string;
  /** the command ha.cf respawns as ipfail when the lab has a ping node (Heartbeat's; hadiag builds it in) */
  ipfail?: string;
}

/** Debian's ipfail, which `respawn hacluster …` names in a lab with --ping-node (both rows write the same line). */
export const IPFAIL_BIN = '/usr/libexec/heartbeat/ipfail';

/** ha.cf, haresources (server1 owns the VIP, dotted netmask as the field report) and authkeys of a lab server. */
export function labHaConfig(lab: LabState, host: LabHost, o: LabHaDOptions): HaConfigSettings {
  return {
    hacf: {
      comment: [o.comment],
      ...o.logging,
      ...haCfTimersMs(lab.timers),
      udpport: 694,
      // --heartbeat-link separate: heartbeats on their own interface, the client-facing one apart
      media: [{ kind: 'bcast', iface: host.hb?.ifname ?? host.ifname }],
      ...(lab.pingNode ? { ping: [lab.pingNode], respawn: [{ user: 'hacluster', command: o.ipfail ?? IPFAIL_BIN }] } : {}),
      autoFailback: lab.autoFailback ?? 'on',
      crmNo: o.crmNo,
      nodes: ['server1', 'server2'],
    },
    haresources: [{ node: 'server1', resources: labResources(lab, o.vipNic ?? host.ifname) }],
    authkeys: { active: 2, keys: [{ index: 2, method: 'sha1', key: 'pass' }] },
  };
}

/**
 * Every VIP of the lab in server1's one resource group: IPv4 as the field report writes it
 * (`IPaddr::VIP/255.255.255.0/IF`), IPv6 as Heartbeat's IPv6 agent takes it (`IPv6addr::VIP/64/IF`).
 */
export function labResources(lab: LabState, nic: string): ResourceSettings[] {
  return labVips(lab).map((v) =>
    v.family === 4
      ? { kind: 'ip', ip: v.address, prefixLen: v.prefixLen, mask: 'dotted', nic }
      : { kind: 'ip', agent: 'IPv6addr', ip: withoutDoubleColon(v.address), prefixLen: v.prefixLen, mask: 'prefix', nic },
  );
}

/**
 * An IPv6 address with all eight groups (2001:db8::20 → 2001:db8:0:0:0:0:0:20): Heartbeat's ResourceManager
 * splits a haresources token at every `::`, so `IPv6addr::2001:db8::20/64/IF` reaches the agent as two
 * arguments ("2001:db8" "20/64/IF") and fails; the full form is the one an IPv6 address can take there.
 */
export function withoutDoubleColon(ip: string): string {
  const b = ipv6ToBytes(ip);
  return Array.from({ length: 8 }, (_, i) => b.readUInt16BE(2 * i).toString(16)).join(':');
}

/** Write the three files into `dir` (authkeys 0600, as Heartbeat demands). */
export async function writeHaD(dir: string, texts: HaConfigTexts): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'ha.cf'), texts.hacf);
  await writeFile(join(dir, 'authkeys'), texts.authkeys, { mode: 0o600 });
  await chmod(join(dir, 'authkeys'), 0o600);
  await writeFile(join(dir, 'haresources'), texts.haresources);
}

export const writeLabHaD = (dir: string, lab: LabState, host: LabHost, o: LabHaDOptions): Promise<void> => writeHaD(dir, writeHaConfig(labHaConfig(lab, host, o)));
