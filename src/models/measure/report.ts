/**
 * The data shapes of measure-failover's analysis: what goes in (AnalysisInput), what comes out per outage
 * (OutageReport with its timeline and Diagnosis) and for the run (Analysis). Types only.
 */
import type { NeighEvent, Probe, WireEvent } from './events.js';
import type { OutageRules, ProbeOutage } from './outages.js';
import type { VipConflict } from './conflicts.js';
import type { EchoStream } from './echo-matcher.js';
import type { DegradedPeriod } from './degraded.js';
import type { ClusterTimers, TakeoverEvidence } from './takeover.js';
import type { CrossHost } from './cross-host.js';

export type { DegradedPeriod } from './degraded.js';

export interface AnalysisInput {
  vip: string;
  intervalMs: number;
  probes: Probe[];
  wire: WireEvent[];
  neigh: NeighEvent[];
  /** this host (the client): inferred from the capture when not given */
  client?: { ip?: string; mac?: string };
  iface?: string;
  triggerTsMs?: number;
  runStartTsMs?: number;
  runEndTsMs?: number;
  /** an announcement counts as taken when the client switches to its MAC within this many ms (default 1000) */
  acceptWindowMs?: number;
  /** outage durations above this are a problem (exit 1) */
  expectMs?: number;
  rules?: Partial<OutageRules>;
  /** client sysctls read during the run, e.g. { drop_gratuitous_arp: 1, arp_accept: 0, base_reachable_time_ms: 30000 } */
  sysctls?: Record<string, number>;
  /** the cluster's configured timers (--hacf): the expected takeover time */
  timers?: ClusterTimers;
  /** sysctls sampled during the run; each outage is judged by the sample in effect when it began */
  sysctlSamples?: { tsMs: number; values: Record<string, number> }[];
}

export type TimelineKind =
  | 'trigger'
  | 'last-reply'
  | 'outage-start'
  | 'cluster-stop'
  | 'cluster-start'
  | 'announcement'
  | 'switch'
  | 'neigh'
  | 'unicast-probe'
  | 'broadcast-request'
  | 'arp-answer'
  | 'outage-end';

export interface TimelineEntry {
  tsMs: number;
  /** ms relative to the outage's reference point (the trigger when given, else the first lost probe) */
  relMs: number;
  kind: TimelineKind;
  text: string;
  mac?: string;
}

export type AnnouncementForm = 'garp-request' | 'garp-reply' | 'directed-request' | 'unicast-reply' | 'unsolicited-na' | 'directed-na' | 'directed-ns' | 'other';

export interface Announcement {
  tsMs: number;
  mac: string;
  form: AnnouncementForm;
  /** IPv6: what this host's kernel did with it (nd-evidence.ts), judged on its sysctls and entry before the frame */
  verdict?: { accepted: boolean; reason: string; entryBefore: string };
}

/** One MAC that announced the VIP during an outage: the forms it used, how often, from when. */
export interface Announcer {
  mac: string;
  forms: AnnouncementForm[];
  count: number;
  firstTsMs: number;
}

export interface OutageReport extends ProbeOutage {
  index: number;
  recovered: boolean;
  durationMs?: number;
  /** reply-to-reply gap: last answered probe before to first answered after */
  replyGapMs?: number;
  refTsMs: number;
  macBefore?: string;
  macAfter?: string;
  announcements: Announcement[];
  /** the announcements by MAC */
  announcers: Announcer[];
  /** when and how this host started using the new MAC */
  switchTsMs?: number;
  switchEvidence?: string;
  learnedBy: 'announcement' | 'own-resolution' | 'unknown';
  /** ms from the announcement that preceded the switch to the switch */
  acceptLatencyMs?: number;
  unicastProbesToOld: number[];
  broadcastRequests: number[];
  /** IPv6: duplicate-address probes (NS from ::) for the VIP in the window — a holder adding it with DAD */
  dadProbes?: { tsMs: number; mac: string }[];
  broadcastAnswer?: { tsMs: number; mac: string };
  neighChanges: { tsMs: number; state: string; lladdr?: string }[];
  clusterStops: { tsMs: number; srcIp: string; proto: string; silentMs: number }[];
  clusterStarts: { tsMs: number; srcIp: string; proto: string }[];
  timeline: TimelineEntry[];
  diagnosis: Diagnosis;
  /** where the start/end times came from: the capture's kernel stamps, or ping's own lines (start interpolated) */
  timesFrom: { start: 'capture' | 'ping'; end?: 'capture' | 'ping' };
  /** the degraded period (scattered loss) this outage lies in, if any: the loss lengthened it */
  degraded?: DegradedPeriod;
  /** the takeover as the cluster's own traffic shows it: expected time, old holder silent, new holder heard */
  takeover?: TakeoverEvidence;
  /** split brain inside the outage's window: several MACs answered for the VIP */
  conflicts?: VipConflict[];
  /** with --server-capture: the timeline across hosts (client clock), its segments and the dominant one */
  crossHost?: CrossHost;
}

export interface Analysis {
  vip: string;
  iface?: string;
  intervalMs: number;
  client: { ip?: string; mac?: string };
  probesSent: number;
  probesAnswered: number;
  runStartTsMs?: number;
  runEndTsMs?: number;
  triggerTsMs?: number;
  outages: OutageReport[];
  /** echo requests to the VIP not from the pinger (traceroute, a second ping, monitoring): set apart, never outages */
  otherEchoStreams?: EchoStream[];
  /** moments when two MACs owned the VIP (split brain) */
  conflicts: VipConflict[];
  /** periods of scattered loss: one finding each (window, loss rate), never outages */
  degraded: DegradedPeriod[];
  /** a problem beyond detection time was found, or an outage exceeded --expect, or the VIP never recovered */
  problem: boolean;
  summary: string;
}

export type Cause =
  | 'detection-bound' // the client took the first announcement at once: the outage is the cluster's takeover time
  | 'announcements-ignored' // announcements arrived, the client kept the dead MAC until its own ARP timeout
  | 'no-announcement' // no announcement for the VIP reached this interface; recovery by the client's own resolution
  | 'late-announcement' // the client resolved the VIP itself before any announcement arrived
  | 'same-mac' // the VIP answered from the same MAC before and after: not an ARP problem
  | 'first-resolution' // the run began unanswered while this host first resolved the VIP: not a failover
  | 'never-recovered'
  | 'lossy-path' // the outage lies in a period of scattered loss on the path, which lengthened it
  | 'port-not-forwarding' // nothing from the new holder reached this host for well past the moment the timers say it took over
  | 'split-brain' // several MACs answered for the VIP during the outage
  | 'not-sent' // (server capture) the new holder's announcements never left its wire
  | 'dropped-on-path' // (server capture) they left the server's wire but never reached this host
  | 'unknown';

export interface Fix {
  rank: number;
  side: 'server' | 'client' | 'network';
  title: string;
  detail: string;
  snippet?: string;
}

export interface Diagnosis {
  cause: Cause;
  /** lossy-path: the cause the outage would have had without the loss (its detection part) */
  underlying?: Cause;
  problem: boolean;
  sentence: string;
  evidence: string[];
  fixes: Fix[];
}
