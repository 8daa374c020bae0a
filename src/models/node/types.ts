/**
 * The node machine's vocabulary: its configuration, the events it is fed, the actions it returns, its status,
 * and Heartbeat's resource-set bits (none/local/foreign/all).
 */
import type { HbMessage } from '../../codecs/heartbeat/message.js';
import type { Client } from '../strategy/language.js';
import type { IpfailView } from './ipfail.js';
import type { PingNodeConfig, PingNodeView } from './ping-nodes.js';

/** hadiag's own message type: the clients a node has learned, for its peer's announcer (Heartbeat ignores it). */
export const CLIENTS_TYPE = 'hadiag-clients';
/** how often a node repeats its client list to its peers (also sent at once when the list changes) */
export const CLIENTS_EVERY_MS = 5000;

export type AutoFailback = 'on' | 'off' | 'legacy';
export type NodeStatus = 'init' | 'up' | 'active' | 'dead';

/** Resource set bits, as Heartbeat encodes them: index into none/local/foreign/all. */
export const RSC_NONE = 0;
export const RSC_LOCAL = 1;
export const RSC_FOREIGN = 2;
export const RSC_ALL = 3;
const RSC_NAMES = ['none', 'local', 'foreign', 'all'] as const;
export const rscName = (bits: number): string => RSC_NAMES[bits & 3]!;
export function rscBits(name: string | undefined): number | undefined {
  const i = RSC_NAMES.indexOf((name ?? '') as (typeof RSC_NAMES)[number]);
  return i < 0 ? undefined : i;
}

export interface MachineGroup {
  /** the haresources home node */
  node: string;
  /** a label for logs/status, e.g. the haresources line */
  label: string;
  /** the group's IP resources as haresources writes them */
  ips?: string[];
  /**
   * Heartbeat's name for the group: its first resource as haresources writes it (`ResourceManager listkeys`).
   * Legacy ip-request / ip-request-resp carry it in `ipaddr`. Default: the first token after the node in
   * `label` when the label is the haresources line, else the first of `ips`, else the label.
   */
  key?: string;
}

/** The group key Heartbeat puts in ip-request's `ipaddr` (see MachineGroup.key). */
export function groupKey(g: MachineGroup): string {
  if (g.key) return g.key;
  const words = g.label.trim().split(/\s+/);
  if (words.length > 1 && words[0]!.toLowerCase() === g.node.toLowerCase()) return words[1]!;
  return g.ips?.[0] ?? g.label;
}

export interface MachineConfig {
  node: string;
  /** every cluster node from ha.cf (the local one included) */
  nodes: string[];
  keepaliveMs: number;
  deadtimeMs: number;
  warntimeMs: number;
  initdeadMs: number;
  autoFailback: AutoFailback;
  groups: MachineGroup[];
  /** the generation (hg), persisted by the daemon and incremented each start */
  generation: number;
  /** 16 bytes (srcuuid) */
  uuid: Buffer;
  /** Heartbeat's RQSTDELAY: how long both-starting nodes wait before taking their own groups (10 s) */
  rqstDelayMs?: number;
  /** contents of /proc/loadavg for the `ld` field */
  load?: () => string;
  /** how long to wait for a peer's answer in the standby protocol (10 s in Heartbeat) */
  standbyTimeoutMs?: number;
  /**
   * auto_failback legacy: how long to wait for the peer's ip-request-resp before taking a group anyway
   * (Heartbeat 3.0.6 never does: its req_resource failsafe is disabled). 10 s: the real rc.d/ip-request
   * answers only after its IPaddr stop has finished (about a second).
   */
  ipRequestTimeoutMs?: number;
  /** ha.cf's ping / ping_group nodes, deadping, and whether ipfail (built in) acts on them */
  ping?: { nodes: PingNodeConfig[]; deadpingMs: number; ipfail: boolean };
}

export type MachineEvent =
  | { type: 'message'; msg: HbMessage; from?: { ip: string; port: number } }
  | { type: 'tick' }
  | { type: 'command'; cmd: 'standby' | 'takeover' | 'shutdown' }
  /** the clients this node's announcer has learned (its ARP cache and traffic to the VIP) */
  | { type: 'clients'; clients: Client[] }
  /** an ICMP echo reply from a ping node's host (the daemon's pinger) */
  | { type: 'ping-reply'; host: string }
  | { type: 'resource-done'; job: number; group: number; op: 'acquire' | 'release'; ok: boolean; durationMs?: number; detail?: string };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Action =
  | { type: 'send'; msg: HbMessage }
  | { type: 'acquire'; group: number; job: number; reason: string }
  | { type: 'release'; group: number; job: number; reason: string }
  /** announce a held group's addresses again (the peer had announced them during a partition) */
  | { type: 'announce'; group: number; reason: string }
  /** a peer's learned clients (hadiag-clients): feed them to the announcer's book */
  | { type: 'peer-clients'; node: string; clients: Client[] }
  | { type: 'log'; level: LogLevel; event: string; text: string; data?: Record<string, unknown> }
  | { type: 'exit'; code: number };

export interface PeerInfo {
  name: string;
  status: NodeStatus;
  /** what the peer says about itself (st of its last status) */
  reported?: string;
  lastHeardMs?: number;
  generation?: number;
  maxSeq?: number;
  ip?: string;
  holds: string;
  stable: boolean;
}

export interface Counters {
  received: number;
  accepted: number;
  duplicates: number;
  replaysRejected: number;
  generationRejected: number;
  generationChanges: number;
  seqJumpsRejected: number;
  /** seq memory re-synchronised to a fresh stream below the replay floor (a forger had pushed the floor up) */
  seqResyncs: number;
  unknownNode: number;
  malformedFields: number;
  retransmitRequests: number;
  retransmitsSent: number;
  naksSent: number;
  peerDeaths: number;
  /** hadiag-clients messages received, and malformed entries in them (skipped) */
  peerClientLists: number;
  badClientEntries: number;
}

export interface MachineStatus {
  node: string;
  status: NodeStatus;
  generation: number;
  seq: number;
  resourceState: ResourceState;
  holds: string;
  peers: PeerInfo[];
  groups: { index: number; label: string; home: string; holder: string | null; pending: boolean }[];
  counters: Counters;
  standby: string;
  /** ping nodes (ha.cf ping / ping_group) and their status */
  pingNodes?: PingNodeView[];
  /** the built-in ipfail: our live ping node count, the peer's last one, a pending giveup */
  ipfail?: IpfailView & { count: number };
}

export type ResourceState = 'init' | 'starting' | 'bothstarting' | 'rscrcvd' | 'stable' | 'shutdown';
export type Standby = 'not' | 'me' | 'other' | 'done';
export type LogAction = Extract<Action, { type: 'log' }>;
/** a message field list as buildMessage takes it */
export type Fields = Array<[string, string | Buffer]>;
