import { performance } from 'node:perf_hooks';
import { sleep } from '../../core/clock.js';
import { onCleanup } from '../io/cleanup.js';
import { upLab, destroyLab } from './lab.js';
import { applyFault, parseFault } from './faults.js';
import { Pinger } from './pinger.js';
import { clients, type LabState } from './types.js';
import type { NeighOverrides } from '../../models/lab/profiles.js';

export interface DemoOptions {
  /** one manager (kept for callers that compare profiles only) */
  manager?: string;
  /** several managers: every (manager, profile) pair gets a lab of its own */
  managers?: string[];
  timers?: string;
  /** one lab per profile, side by side */
  profiles?: string[];
  neigh?: NeighOverrides;
  /** how long the clients ping before the fault (their entries for the VIP become REACHABLE) */
  settleMs?: number;
  /** give up waiting for recovery this long after the fault */
  maxWaitMs?: number;
  onProgress?: (text: string) => void;
}

export interface DemoRow {
  lab: string;
  manager: string;
  client: string;
  profile: string;
  /** the client's longest silence after the fault (ms); a lower bound when `recovered` is false */
  outageMs: number;
  recovered: boolean;
  faultAtMs: number;
  lastReplyMs?: number;
  firstReplyMs?: number;
}

export interface DemoResult {
  /** the managers in the order of the rows (the first one for single-manager callers) */
  managers: string[];
  manager: string;
  timers: string;
  timerSummary: string;
  fault: string;
  rows: DemoRow[];
}

/** Shortest silence counted as the failover (filters scheduling hiccups of a 5 ms ping). */
const MIN_OUTAGE_MS = 50;

/**
 * The lab demo: one lab per (manager, client profile) (so one client's ARP traffic cannot heal another's entry),
 * built in parallel; each client pings its VIP every 5 ms; server1's link goes down in every lab; each
 * client's outage is measured by its own ping. Every lab is always torn down.
 */
export async function runDemo(o: DemoOptions = {}): Promise<DemoResult> {
  const progress = o.onProgress ?? (() => {});
  const managers = o.managers ?? [o.manager ?? 'heartbeat'];
  const pairs = managers.flatMap((manager) => (o.profiles ?? ['garp-filtered', 'linux-default']).map((profile) => ({ manager, profile })));
  const built = await Promise.allSettled(
    pairs.map(({ manager, profile }) =>
      upLab({ manager, timers: o.timers ?? 'classic', profiles: [profile], clients: 1, neigh: o.neigh, onProgress: (t) => progress(`[${manager} ${profile}] ${t}`) }),
    ),
  );
  const labs = built.filter((r): r is PromiseFulfilledResult<LabState> => r.status === 'fulfilled').map((r) => r.value);
  const pingers: Pinger[] = [];
  // the demo owns its labs: Ctrl-C while measuring removes them too
  const undo = onCleanup('demo labs', async () => {
    for (const lab of labs) await destroyLab(lab.id);
  });
  try {
    const failed = built.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const lab of labs) pingers.push(Pinger.start(clients(lab)[0]!.netns, lab.vip, 0.005));
    progress(`clients ping the VIP every 5 ms; waiting ${((o.settleMs ?? 5000) / 1000).toFixed(0)} s`);
    await sleep(o.settleMs ?? 5000);
    const faults: { atMs: number }[] = [];
    for (const lab of labs) faults.push(await applyFault(lab, parseFault('primary-link-down')));
    const start = faults[0]!.atMs;
    const deadline = Date.now() + (o.maxWaitMs ?? 90_000);
    let lastWaiting = -1;
    let lastReport = 0;
    while (Date.now() < deadline) {
      const waiting = pingers.filter((p, i) => !p.recovered(faults[i]!.atMs, MIN_OUTAGE_MS));
      if (waiting.length === 0) break;
      if (waiting.length !== lastWaiting || Date.now() - lastReport >= 5000) {
        lastWaiting = waiting.length;
        lastReport = Date.now();
        progress(`server1's link went down ${((performance.timeOrigin + performance.now() - start) / 1000).toFixed(0)} s ago; ${waiting.length} client(s) still without replies`);
      }
      await sleep(250);
    }
    const rows = labs.map((lab, i): DemoRow => {
      const p = pingers[i]!;
      const at = faults[i]!.atMs;
      const out = p.outage(at);
      return {
        lab: lab.id,
        manager: pairs[i]!.manager,
        client: clients(lab)[0]!.name,
        profile: pairs[i]!.profile,
        outageMs: out?.ms ?? 0,
        recovered: p.recovered(at, MIN_OUTAGE_MS),
        faultAtMs: at,
        ...(out ? { lastReplyMs: out.lastReplyMs } : {}),
        ...(out?.firstReplyMs ? { firstReplyMs: out.firstReplyMs } : {}),
      };
    });
    const lab0 = labs[0]!;
    return { managers, manager: lab0.manager, timers: lab0.timers.text, timerSummary: lab0.timers.summary, fault: 'primary-link-down', rows };
  } finally {
    for (const p of pingers) await p.stop();
    progress('tearing down');
    for (const lab of labs) await destroyLab(lab.id);
    undo();
  }
}
