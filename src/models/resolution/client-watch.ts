/**
 * What the clients did after one takeover, tallied as the traffic streams by (garp-watch.ts feeds it): per
 * client counters and the first few probe times, never a list of the frames. Pure.
 */
import { MAC_BROADCAST } from '../../codecs/addr.js';

/** A frame towards an address: IPv4/IPv6 to it, or an ARP request (IPv6: an NS) for it. */
export interface Traffic {
  tsMs: number;
  srcIp: string;
  srcMac: string;
  dstMac: string;
  /** the address the frame is for */
  ip: string;
  arp?: 'request';
}

export interface ClientBehaviour {
  ip: string;
  mac: string;
  vip: string;
  /** the takeover this is about */
  takeoverRelMs: number;
  newMac: string;
  oldMac?: string;
  /** IPv4 frames to the VIP still sent to the old MAC after the announcements */
  sentToOldMac: number;
  lastToOldRelMs?: number;
  /** unicast ARP requests for the VIP to the old / new MAC (neighbour probes): the first PROBE_TIMES_KEPT */
  probesToOld: number[];
  probesToNew: number[];
  /** broadcast requests for the VIP from this client: the first PROBE_TIMES_KEPT */
  broadcastRequests: number[];
  firstToNewRelMs?: number;
  verdict: 'accepted' | 'ignored' | 'unknown';
  conclusion: string;
}

/** How many times of each probe kind a client keeps (the counts go on; a long capture repeats the story). */
export const PROBE_TIMES_KEPT = 1000;

interface Tally {
  ip: string;
  mac: string;
  sentToOld: number;
  lastToOldMs?: number;
  probesToOld: number[];
  probesToNew: number[];
  broadcastRequests: number[];
  lastProbeToOldMs?: number;
  /** the first broadcast request after the last probe to the old MAC: when the client's own probes failed */
  broadcastAfterProbesMs?: number;
  firstToNewMs?: number;
}

const keep = (list: number[], x: number) => {
  if (list.length < PROBE_TIMES_KEPT) list.push(x);
};

const rel = (ms: number) => `+${(ms / 1000).toFixed(2)} s`;

/** Is `x` unicast traffic to `ip` that shows which MAC the clients used for it (not the new owner's)? */
export function showsUsedMac(x: Traffic, ip: string, newMac: string): boolean {
  return x.ip === ip && x.dstMac !== '' && x.dstMac !== MAC_BROADCAST && x.dstMac !== newMac && x.srcMac !== newMac;
}

/** The clients of one takeover (`ip` moved to `newMac` at `tsMs`), from its first frame to the next takeover. */
export class TakeoverClients {
  /** the MAC the clients used before; may be learnt later (a capture that began after the VIP moved) */
  oldMac?: string;
  private readonly tallies = new Map<string, Tally>();

  constructor(
    readonly ip: string,
    readonly newMac: string,
    readonly tsMs: number,
    oldMac: string | undefined,
  ) {
    this.oldMac = oldMac;
  }

  /** The old MAC seen only now: a client with that MAC was one of the servers. */
  learnOldMac(mac: string): void {
    this.oldMac = mac;
    for (const [k, t] of this.tallies) if (t.mac === mac) this.tallies.delete(k);
  }

  feed(x: Traffic): void {
    if (x.ip !== this.ip || x.srcIp === this.ip || x.tsMs < this.tsMs) return;
    if (x.srcMac === this.newMac || x.srcMac === this.oldMac) return; // the servers themselves
    const key = `${x.srcIp} ${x.srcMac}`;
    let t = this.tallies.get(key);
    if (!t) this.tallies.set(key, (t = { ip: x.srcIp, mac: x.srcMac, sentToOld: 0, probesToOld: [], probesToNew: [], broadcastRequests: [] }));
    const toOld = this.oldMac !== undefined && x.dstMac === this.oldMac;
    if (!x.arp) {
      if (toOld && x.tsMs - this.tsMs > 50) {
        t.sentToOld++;
        t.lastToOldMs = x.tsMs;
      }
    } else {
      if (toOld) {
        keep(t.probesToOld, x.tsMs);
        t.lastProbeToOldMs = x.tsMs;
        t.broadcastAfterProbesMs = undefined;
      }
      if (x.dstMac === this.newMac) keep(t.probesToNew, x.tsMs);
      if (x.dstMac === MAC_BROADCAST) {
        keep(t.broadcastRequests, x.tsMs);
        if (t.broadcastAfterProbesMs === undefined && (t.lastProbeToOldMs === undefined || x.tsMs > t.lastProbeToOldMs)) t.broadcastAfterProbesMs = x.tsMs;
      }
    }
    if (t.firstToNewMs === undefined && x.dstMac === this.newMac) t.firstToNewMs = x.tsMs;
  }

  /** One behaviour per client, in the order they first showed up; `startMs` is the capture's first frame. */
  behaviours(startMs: number, takeoverRelMs: number): ClientBehaviour[] {
    const relOf = (ts: number) => ts - startMs;
    const out: ClientBehaviour[] = [];
    for (const t of this.tallies.values()) {
      const cb: ClientBehaviour = {
        ip: t.ip,
        mac: t.mac,
        vip: this.ip,
        takeoverRelMs,
        newMac: this.newMac,
        oldMac: this.oldMac,
        sentToOldMac: t.sentToOld,
        lastToOldRelMs: t.lastToOldMs !== undefined ? relOf(t.lastToOldMs) : undefined,
        probesToOld: t.probesToOld.map(relOf),
        probesToNew: t.probesToNew.map(relOf),
        broadcastRequests: t.broadcastRequests.map(relOf),
        firstToNewRelMs: t.firstToNewMs !== undefined ? relOf(t.firstToNewMs) : undefined,
        verdict: 'unknown',
        conclusion: '',
      };
      this.conclude(cb, t, relOf);
      out.push(cb);
    }
    return out;
  }

  private conclude(cb: ClientBehaviour, t: Tally, relOf: (ts: number) => number): void {
    const T = rel(cb.takeoverRelMs);
    const ip = cb.ip;
    if (cb.probesToOld.length || cb.sentToOldMac) {
      cb.verdict = 'ignored';
      const failedAt = t.broadcastAfterProbesMs !== undefined ? relOf(t.broadcastAfterProbesMs) : cb.firstToNewRelMs;
      const probes = cb.probesToOld.length ? `, sent ${cb.probesToOld.length} unicast ${this.ip.includes(':') ? 'NS' : 'ARP'} probe(s) to it from ${rel(cb.probesToOld[0]!)}` : '';
      cb.conclusion =
        failedAt !== undefined
          ? `client ${ip}: the announcements at ${T} reached this interface but the host kept the old MAC ${cb.oldMac}${probes} until its own probes failed at ${rel(failedAt)}: it ignored or filtered them`
          : `client ${ip}: the announcements at ${T} reached this interface but the host still used the old MAC ${cb.oldMac}${probes} at the end of the capture: it ignored or filtered them`;
    } else if (cb.firstToNewRelMs !== undefined) {
      cb.verdict = 'accepted';
      const how = cb.probesToNew.length && cb.probesToNew[0] === cb.firstToNewRelMs ? 'its first frame to the VIP after them was a unicast probe to the new MAC' : 'it sent to the new MAC';
      cb.conclusion = `client ${ip}: accepted the announcements at ${T}: ${how} at ${rel(cb.firstToNewRelMs)} (${((cb.firstToNewRelMs - cb.takeoverRelMs) / 1000).toFixed(2)} s later), never to the old MAC`;
    } else {
      cb.conclusion = `client ${ip}: sent nothing to ${this.ip} after the announcements at ${T}: cannot tell whether it accepted them`;
    }
  }
}

/**
 * Per address, the last few distinct (destination MAC, source MAC) pairs of unicast traffic to it: enough to
 * say which MAC the clients used before a takeover without keeping the traffic.
 */
export class RecentUnicast {
  private readonly byIp = new Map<string, Map<string, Traffic>>();
  constructor(private readonly pairsKept = 8) {}

  note(x: Traffic): void {
    if (x.dstMac === '' || x.dstMac === MAC_BROADCAST) return;
    let pairs = this.byIp.get(x.ip);
    if (!pairs) this.byIp.set(x.ip, (pairs = new Map()));
    const key = `${x.dstMac} ${x.srcMac}`;
    pairs.delete(key);
    pairs.set(key, x);
    if (pairs.size > this.pairsKept) pairs.delete(pairs.keys().next().value!);
  }

  /** The MAC the last unicast frame to `ip` before `beforeMs` went to, leaving the new owner's out. */
  usedMac(ip: string, newMac: string, beforeMs: number): string | undefined {
    let best: Traffic | undefined;
    for (const x of this.byIp.get(ip)?.values() ?? []) {
      if (x.tsMs < beforeMs && showsUsedMac(x, ip, newMac) && (!best || x.tsMs >= best.tsMs)) best = x;
    }
    return best?.dstMac;
  }
}
