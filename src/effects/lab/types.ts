import { usageError } from '../../core/errors.js';
import type { TimerSpec } from './timers.js';

/** What a lab looks like on disk (state.json in its state directory). Later commands read only this. */
export interface LabHost {
  name: string; // server1, server2, client, client2, …
  role: 'server' | 'client';
  netns: string;
  ifname: string; // the interface inside the host's namespace
  bridgePort: string; // its peer in the bridge namespace
  mac: string;
  address: string; // dotted, no prefix
  /** with family 6: the host's address in the lab's IPv6 subnet (no prefix) */
  address6?: string;
  /** clients: the VIPs this client talks to, one per family (round-robin over the lab's VIPs) */
  vips?: string[];
  /** clients: the profile applied */
  profile?: string;
  /** servers: the running manager */
  manager?: ManagerRun;
  /** a directory of the host's own (configs, logs) inside the lab directory */
  dir: string;
  /** servers with --heartbeat-link separate: the heartbeat-only interface, its address and bridge port */
  hb?: { ifname: string; address: string; bridgePort: string };
}

/** What a manager's start() returns: how to find, signal and read the daemon later. */
export interface ManagerRun {
  /** main daemon PID (for heartbeat: the master control process) */
  pid: number;
  /** re-read the main PID from here if present (daemons that fork) */
  pidFile?: string;
  logs: string[];
  configDir: string;
  /** e.g. `nsenter` arguments to enter the daemon's own UTS/mount namespaces */
  enter?: 'uts+mount';
}

export type LabFamily = 4 | 6;

/** One floating address of the lab. */
export interface LabVip {
  family: LabFamily;
  address: string;
  prefixLen: number;
}

export interface FaultRecord {
  kind: string;
  host?: string;
  atMs: number;
}

export interface LabState {
  version: 1;
  id: string;
  dir: string;
  createdAtMs: number;
  /** PID of the `lab up` process while it builds (a crashed build leaves this behind) */
  builderPid?: number;
  ready: boolean;
  subnet: string;
  prefixLen: number;
  broadcast: string;
  /** the first VIP (vips[0].address): IPv4 unless the lab is IPv6 only. Callers that know one VIP read this. */
  vip: string;
  /** the VIP families, in the order asked (lab up --family; absent in older labs: [4]) */
  families?: LabFamily[];
  /** every VIP: --vips M per family, the families in order (absent in older labs: [{ family 4, vip, prefixLen }]) */
  vips?: LabVip[];
  /** with family 6: the IPv6 subnet of the client-facing link (servers and clients get an address in it) */
  subnet6?: string;
  manager: string;
  /** the announcement strategy of the `hadiag` manager (run-node --garp); its default when unset */
  garp?: string;
  timers: TimerSpec & { summary: string; settings: Record<string, string | number> };
  bridgeNetns: string;
  bridge: string;
  hosts: LabHost[];
  lastLinkDown?: string;
  /** faults that live in the bridge namespace's nftables table (rebuilt as a whole on every change) */
  net: { partition: boolean; loss: Record<string, number>; pingBlocked?: string[] };
  /** --heartbeat-link separate: the heartbeat bridge (in the bridge namespace) and its subnet */
  heartbeatLink?: { bridge: string; subnet: string };
  /** --ping-node: the always-up address on the client side (on the client bridge itself) that ha.cf pings */
  pingNode?: string;
  faults: FaultRecord[];
  /** ha.cf auto_failback of the real Heartbeat nodes ('on' when unset; the node interop tests ask for others) */
  autoFailback?: 'on' | 'off' | 'legacy';
}

export function labHost(state: LabState, name: string): LabHost {
  const h = state.hosts.find((x) => x.name === name);
  if (!h) throw usageError(`no host "${name}" in lab ${state.id}`, 'HOST', `use one of: ${state.hosts.map((x) => x.name).join(', ')}`);
  return h;
}

export const servers = (state: LabState): LabHost[] => state.hosts.filter((h) => h.role === 'server');
export const clients = (state: LabState): LabHost[] => state.hosts.filter((h) => h.role === 'client');

/** Every VIP of a lab (one family only when asked), older state files included. */
export function labVips(state: Pick<LabState, 'vip' | 'vips' | 'prefixLen'>, family?: LabFamily): LabVip[] {
  const all = state.vips ?? [{ family: 4 as const, address: state.vip, prefixLen: state.prefixLen }];
  return family === undefined ? all : all.filter((v) => v.family === family);
}

export const labFamilies = (state: Pick<LabState, 'families'>): LabFamily[] => state.families ?? [4];

/** The VIPs a client talks to (one per family); the first VIP for clients of older labs. */
export const clientVips = (state: Pick<LabState, 'vip'>, host: LabHost): string[] => host.vips ?? [state.vip];

/** How many of `vips` a list of addresses (bare or CIDR) carries. */
export function vipsHeld(addresses: string[], vips: string[]): number {
  const set = new Set(addresses.map((a) => a.split('/')[0]));
  return vips.filter((v) => set.has(v)).length;
}
