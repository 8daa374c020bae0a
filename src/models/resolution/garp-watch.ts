/**
 * The analysis behind `garp-check`, live or offline: feed frames in time order, get one report per ARP/ND
 * frame (classification, problems, optional acceptance prediction, warnings) and, at the end, who announced
 * which address when, and what the clients did afterwards. Pure: no I/O, no clock.
 */
import { classifyArp, classifyNd, type ArpKind } from './classify.js';
import type { Frame } from '../../codecs/decode.js';
import type { Prediction } from './accept-model.js';
import { MAC_BROADCAST } from '../../codecs/addr.js';

export interface FrameReport {
  index: number;
  tsMs: number;
  /** ms since the first frame fed */
  relMs: number;
  ethSrc: string;
  ethDst: string;
  /** outer VLAN id; `vlans` has every tag's id, outermost first */
  vlan?: number;
  vlans?: number[];
  proto: 'arp' | 'nd';
  op: string;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
  kind: ArpKind | 'unsolicited-na' | 'na' | 'ns';
  label: string;
  gratuitous: boolean;
  problems: string[];
  prediction?: Prediction;
  /** whose kernel the prediction is for: this host (live) or a stock Linux client (offline) */
  predictionFor?: 'this host' | 'a stock client';
  warnings: string[];
}

export interface Warning {
  code: 'split-brain' | 'mac-flapping' | 'malformed' | 'burst-in-locktime' | 'ignored' | 'decode-error';
  tsMs: number;
  message: string;
}

export interface Takeover {
  ip: string;
  mac: string;
  previousMac?: string;
  /** first announcement from this MAC */
  tsMs: number;
  relMs: number;
  /** last frame from this MAC claiming the address (announcements and replies) */
  lastMs: number;
  /** last announcement */
  lastAnnouncementMs: number;
  announcements: number;
  /** count per frame label, e.g. {"GARP request (target MAC 00:00)": 10, ...} */
  forms: Record<string, number>;
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
  /** unicast ARP requests for the VIP to the old / new MAC (neighbour probes) */
  probesToOld: number[];
  probesToNew: number[];
  /** broadcast requests for the VIP from this client */
  broadcastRequests: number[];
  firstToNewRelMs?: number;
  verdict: 'accepted' | 'ignored' | 'unknown';
  conclusion: string;
}

export interface GarpSummary {
  frames: number;
  arpFrames: number;
  reported: number;
  byKind: Record<string, number>;
  announcers: { ip: string; mac: string; count: number; firstRelMs: number; lastRelMs: number; forms: Record<string, number> }[];
  takeovers: Takeover[];
  clients: ClientBehaviour[];
  warnings: Warning[];
  malformed: number;
  /** one sentence per client and takeover, and a general one when nothing could be concluded */
  conclusions: string[];
  startMs?: number;
}

export interface AnalyzerOptions {
  vip?: string;
  locktimeMs?: number;
}

interface Claim {
  tsMs: number;
  mac: string;
  kind: string;
}

const rel = (ms: number) => `+${(ms / 1000).toFixed(2)} s`;

export class GarpAnalyzer {
  private readonly vip?: string;
  private readonly locktimeMs: number;
  private startMs?: number;
  private n = 0;
  private arpFrames = 0;
  private reported = 0;
  private malformed = 0;
  private readonly byKind: Record<string, number> = {};
  private readonly warnings: Warning[] = [];
  private readonly takeovers: Takeover[] = [];
  /** claims per IP (announcements and replies from that IP) */
  private readonly claims = new Map<string, Claim[]>();
  private readonly owner = new Map<string, Takeover>();
  private readonly announcers = new Map<string, GarpSummary['announcers'][number]>();
  /** every frame sent to an announced IP, for the client analysis */
  private readonly traffic: { tsMs: number; srcIp: string; srcMac: string; dstMac: string; ip: string; arp?: 'request' | 'reply' }[] = [];
  private readonly warned = new Set<string>();

  constructor(opts: AnalyzerOptions = {}) {
    this.vip = opts.vip;
    this.locktimeMs = opts.locktimeMs ?? 1000;
  }

  /** Feed one frame. Returns a report for ARP / ND frames (about the VIP when one is set). */
  add(tsMs: number, f: Frame, prediction?: Prediction, predictionFor: FrameReport['predictionFor'] = 'this host'): FrameReport | undefined {
    this.startMs ??= tsMs;
    this.n++;
    const relMs = tsMs - this.startMs;
    if (f.ipv4 && f.eth) {
      this.traffic.push({ tsMs, srcIp: f.ipv4.src, srcMac: f.eth.src, dstMac: f.eth.dst, ip: f.ipv4.dst });
    }
    if (f.nd) return this.addNd(tsMs, relMs, f);
    if (!f.arp) {
      if (f.error && f.eth?.ethertype === 0x0806) {
        this.malformed++;
        this.warn({ code: 'decode-error', tsMs, message: `${rel(relMs)}: undecodable ARP frame from ${f.eth.src}: ${f.error}` });
      }
      return undefined;
    }
    this.arpFrames++;
    const a = f.arp;
    const c = classifyArp(f, { vip: this.vip })!;
    if (a.op === 1 && a.senderIp !== '0.0.0.0' && a.senderIp !== a.targetIp) {
      this.traffic.push({ tsMs, srcIp: a.senderIp, srcMac: a.senderMac, dstMac: f.eth?.dst ?? '', ip: a.targetIp, arp: 'request' });
    }
    if (this.vip && a.senderIp !== this.vip && a.targetIp !== this.vip) return undefined;
    this.reported++;
    this.byKind[c.kind] = (this.byKind[c.kind] ?? 0) + 1;
    const r: FrameReport = {
      index: this.n - 1,
      tsMs,
      relMs,
      ethSrc: f.eth?.src ?? '',
      ethDst: f.eth?.dst ?? '',
      vlan: f.eth?.vlan,
      vlans: f.eth?.tags?.map((t) => t.id),
      proto: 'arp',
      op: a.op === 1 ? 'request' : a.op === 2 ? 'reply' : `op ${a.op}`,
      senderMac: a.senderMac,
      senderIp: a.senderIp,
      targetMac: a.targetMac,
      targetIp: a.targetIp,
      kind: c.kind,
      label: c.label,
      gratuitous: c.gratuitous,
      problems: c.problems,
      prediction,
      predictionFor: prediction ? predictionFor : undefined,
      warnings: [],
    };
    if (c.problems.length && (c.gratuitous || (c.kind === 'reply' && c.ethDst === 'broadcast'))) {
      this.malformed++;
      r.warnings.push(...c.problems.map((p) => `malformed announcement: ${p}`));
      this.warn({ code: 'malformed', tsMs, message: `${rel(relMs)}: malformed announcement from ${a.senderMac}: ${c.problems.join('; ')}` }, `malformed:${a.senderMac}:${c.problems[0]}`);
    }
    const claims = c.gratuitous || a.op === 2;
    const claimIp = c.kind === 'directed-request' || c.kind === 'reply' ? a.senderIp : c.gratuitous ? a.senderIp : undefined;
    if (claims && claimIp && claimIp !== '0.0.0.0') this.claim(r, claimIp, a.senderMac, c.gratuitous);
    if (prediction && c.gratuitous && !prediction.accepted && prediction.outcome === 'ignore') {
      r.warnings.push(`${predictionFor} ignores it: ${prediction.reason}`);
    }
    return r;
  }

  private addNd(tsMs: number, relMs: number, f: Frame): FrameReport | undefined {
    const nd = f.nd!;
    if (this.vip) return undefined; // IPv6 is reported only when no IPv4 VIP is being watched
    const c = classifyNd(f);
    this.reported++;
    const kind = nd.kind === 'ns' ? 'ns' : c?.unsolicitedNa ? 'unsolicited-na' : 'na';
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
    const flags = nd.kind === 'na' ? `${nd.router ? 'R' : ''}${nd.solicited ? 'S' : ''}${nd.override ? 'O' : ''}` || '-' : '';
    return {
      index: this.n - 1,
      tsMs,
      relMs,
      ethSrc: f.eth?.src ?? '',
      ethDst: f.eth?.dst ?? '',
      vlan: f.eth?.vlan,
      vlans: f.eth?.tags?.map((t) => t.id),
      proto: 'nd',
      op: nd.kind === 'na' ? `NA [${flags}]` : 'NS',
      senderMac: nd.targetLinkAddr ?? nd.sourceLinkAddr ?? '',
      senderIp: f.ipv6?.src ?? '',
      targetMac: '',
      targetIp: nd.target,
      kind,
      label: kind === 'unsolicited-na' ? `unsolicited NA for ${nd.target}${nd.override ? ' (override)' : ''}` : nd.kind === 'na' ? 'neighbour advertisement' : 'neighbour solicitation',
      gratuitous: kind === 'unsolicited-na',
      problems: c?.problems ?? [],
      warnings: [],
    };
  }

  private warn(w: Warning, key?: string): void {
    if (key) {
      if (this.warned.has(key)) return;
      this.warned.add(key);
    }
    this.warnings.push(w);
  }

  private claim(r: FrameReport, ip: string, mac: string, announcement: boolean): void {
    const list = this.claims.get(ip) ?? [];
    const prev = list.at(-1);
    list.push({ tsMs: r.tsMs, mac, kind: r.kind });
    this.claims.set(ip, list);
    if (announcement) {
      const key = `${ip} ${mac}`;
      const a = this.announcers.get(key) ?? { ip, mac, count: 0, firstRelMs: r.relMs, lastRelMs: r.relMs, forms: {} };
      a.count++;
      a.lastRelMs = r.relMs;
      a.forms[r.label] = (a.forms[r.label] ?? 0) + 1;
      this.announcers.set(key, a);
      // a burst inside locktime: back-to-back repeats (< 100 ms apart) add no time diversity, and reply
      // repeats whose target MAC is not the sender MAC are ignored by a client inside locktime
      const isAnn = (k: string) => k === 'announce-request' || k === 'announce-reply';
      const lastSame = isAnn(r.kind) ? [...list].reverse().slice(1).find((x) => x.mac === mac && isAnn(x.kind)) : undefined;
      const gap = lastSame ? r.tsMs - lastSame.tsMs : Infinity;
      const cur = this.owner.get(ip);
      if (cur && cur.mac === mac && gap >= 0 && gap < this.locktimeMs) {
        const ignoredForm = r.op === 'reply' && r.targetMac !== r.senderMac;
        if (ignoredForm) {
          this.warn(
            { code: 'burst-in-locktime', tsMs: r.tsMs, message: `${rel(r.relMs)}: ${mac} repeats "${r.label}" for ${ip} ${Math.round(gap)} ms after its previous announcement, inside locktime (${this.locktimeMs} ms): a Linux client whose entry was just changed ignores such replies; use requests or replies with target MAC = sender MAC, or space repeats ≥ 1 s` },
            `burst-reply:${ip}:${mac}:${cur.tsMs}`,
          );
        } else if (gap < 100) {
          this.warn(
            { code: 'burst-in-locktime', tsMs: r.tsMs, message: `${rel(r.relMs)}: ${mac} sends its announcements for ${ip} in a burst (${Math.round(gap)} ms apart, inside locktime ${this.locktimeMs} ms): the repeats add no time diversity if the first is lost or ignored; spread them out` },
            `burst:${ip}:${mac}:${cur.tsMs}`,
          );
        }
      }
    }
    const cur = this.owner.get(ip);
    if (!cur || cur.mac !== mac) {
      if (!announcement && cur) {
        // a plain reply from another MAC while someone else owns it: conflict
        if (r.tsMs - cur.lastMs < 5000) {
          this.warn({ code: 'split-brain', tsMs: r.tsMs, message: `${rel(r.relMs)}: two MACs claim ${ip}: ${cur.mac} (announced ${rel(cur.relMs)}) and ${mac} — split brain or address conflict` }, `split:${ip}:${[cur.mac, mac].sort().join()}`);
        }
        return;
      }
      if (!announcement) return;
      const t: Takeover = { ip, mac, previousMac: cur?.mac ?? (prev && prev.mac !== mac ? prev.mac : undefined), tsMs: r.tsMs, relMs: r.relMs, lastMs: r.tsMs, lastAnnouncementMs: r.tsMs, announcements: 1, forms: { [r.label]: 1 } };
      // A → B → A within a few seconds: both are announcing
      const back = this.takeovers.filter((x) => x.ip === ip);
      const last = back.at(-1);
      const before = back.at(-2);
      if (last && before && before.mac === mac && r.tsMs - last.tsMs < 5000) {
        this.warn({ code: 'split-brain', tsMs: r.tsMs, message: `${rel(r.relMs)}: two MACs claim ${ip} (${last.mac} and ${mac} alternate within 5 s) — split brain or address conflict` }, `split:${ip}:${[last.mac, mac].sort().join()}`);
      }
      const recent = back.filter((x) => r.tsMs - x.tsMs < 60_000);
      if (recent.length >= 3) {
        this.warn({ code: 'mac-flapping', tsMs: r.tsMs, message: `${rel(r.relMs)}: ${ip} changed owner MAC ${recent.length + 1} times within 60 s (flapping)` }, `flap:${ip}:${Math.floor(r.tsMs / 60000)}`);
      }
      this.takeovers.push(t);
      this.owner.set(ip, t);
    } else if (announcement) {
      cur.announcements++;
      cur.lastMs = r.tsMs;
      cur.lastAnnouncementMs = r.tsMs;
      cur.forms[r.label] = (cur.forms[r.label] ?? 0) + 1;
    } else {
      cur.lastMs = Math.max(cur.lastMs, r.tsMs);
    }
  }

  /** Flag a frame the host ignored (after comparing the prediction with the kernel, or from the model alone). */
  noteIgnored(tsMs: number, message: string): void {
    this.warn({ code: 'ignored', tsMs, message }, `ignored:${message}`);
  }

  summary(): GarpSummary {
    const clients: ClientBehaviour[] = [];
    const conclusions: string[] = [];
    for (const t of this.takeovers) {
      const next = this.takeovers.find((x) => x.ip === t.ip && x.tsMs > t.tsMs);
      const end = next ? next.tsMs : Infinity;
      const traffic = this.traffic.filter((x) => x.ip === t.ip && x.tsMs >= t.tsMs && x.tsMs < end && x.srcIp !== t.ip);
      const oldMac = t.previousMac ?? this.oldMacFromTraffic(t);
      const byClient = new Map<string, typeof traffic>();
      for (const x of traffic) {
        if (x.srcMac === t.mac || x.srcMac === oldMac) continue; // the servers themselves
        const k = `${x.srcIp} ${x.srcMac}`;
        byClient.set(k, [...(byClient.get(k) ?? []), x]);
      }
      for (const [k, list] of byClient) {
        const [ip, mac] = k.split(' ') as [string, string];
        const relOf = (ts: number) => ts - (this.startMs ?? 0);
        const ip4 = list.filter((x) => !x.arp);
        const toOld = oldMac ? ip4.filter((x) => x.dstMac === oldMac && x.tsMs - t.tsMs > 50) : [];
        const reqs = list.filter((x) => x.arp === 'request');
        const probesToOld = reqs.filter((x) => oldMac && x.dstMac === oldMac).map((x) => relOf(x.tsMs));
        const probesToNew = reqs.filter((x) => x.dstMac === t.mac).map((x) => relOf(x.tsMs));
        const broadcastRequests = reqs.filter((x) => x.dstMac === MAC_BROADCAST).map((x) => relOf(x.tsMs));
        const firstNew = list.find((x) => x.dstMac === t.mac);
        const cb: ClientBehaviour = {
          ip,
          mac,
          vip: t.ip,
          takeoverRelMs: t.relMs,
          newMac: t.mac,
          oldMac,
          sentToOldMac: toOld.length,
          lastToOldRelMs: toOld.length ? relOf(toOld.at(-1)!.tsMs) : undefined,
          probesToOld,
          probesToNew,
          broadcastRequests,
          firstToNewRelMs: firstNew ? relOf(firstNew.tsMs) : undefined,
          verdict: 'unknown',
          conclusion: '',
        };
        const T = rel(t.relMs);
        if (probesToOld.length || toOld.length) {
          cb.verdict = 'ignored';
          const failedAt = broadcastRequests.find((b) => b > (probesToOld.at(-1) ?? -Infinity)) ?? cb.firstToNewRelMs;
          const probes = probesToOld.length ? `, sent ${probesToOld.length} unicast ARP probe(s) to it from ${rel(probesToOld[0]!)}` : '';
          cb.conclusion =
            failedAt !== undefined
              ? `client ${ip}: the announcements at ${T} reached this interface but the host kept the old MAC ${oldMac}${probes} until its own probes failed at ${rel(failedAt)}: it ignored or filtered them`
              : `client ${ip}: the announcements at ${T} reached this interface but the host still used the old MAC ${oldMac}${probes} at the end of the capture: it ignored or filtered them`;
        } else if (firstNew) {
          cb.verdict = 'accepted';
          const how = probesToNew.length && probesToNew[0] === cb.firstToNewRelMs ? 'its first frame to the VIP after them was a unicast probe to the new MAC' : 'it sent to the new MAC';
          cb.conclusion = `client ${ip}: accepted the announcements at ${T}: ${how} at ${rel(cb.firstToNewRelMs!)} (${((cb.firstToNewRelMs! - t.relMs) / 1000).toFixed(2)} s later), never to the old MAC`;
        } else {
          cb.conclusion = `client ${ip}: sent nothing to ${t.ip} after the announcements at ${T}: cannot tell whether it accepted them`;
        }
        clients.push(cb);
        conclusions.push(cb.conclusion);
      }
    }
    if (!this.takeovers.length) conclusions.push(this.vip ? `no announcement for ${this.vip} seen` : 'no announcement seen');
    else if (!clients.length) conclusions.push(`no client traffic to ${[...new Set(this.takeovers.map((t) => t.ip))].join(', ')} after the announcements: nothing to say about the clients`);
    return {
      frames: this.n,
      arpFrames: this.arpFrames,
      reported: this.reported,
      byKind: { ...this.byKind },
      announcers: [...this.announcers.values()],
      takeovers: this.takeovers.map((t) => ({ ...t, forms: { ...t.forms } })),
      clients,
      warnings: [...this.warnings],
      malformed: this.malformed,
      conclusions,
      startMs: this.startMs,
    };
  }

  /** The MAC clients used for the VIP just before a takeover (IPv4 traffic or unicast probes). */
  private oldMacFromTraffic(t: Takeover): string | undefined {
    const unicastTo = (x: (typeof this.traffic)[number]) => x.ip === t.ip && x.dstMac && x.dstMac !== MAC_BROADCAST && x.dstMac !== t.mac && x.srcMac !== t.mac;
    const before = this.traffic.filter((x) => x.tsMs < t.tsMs && unicastTo(x));
    if (before.length) return before.at(-1)!.dstMac;
    // the capture began after the VIP moved: a client still sending to another MAC shows the old one
    return this.traffic.find((x) => x.tsMs >= t.tsMs && unicastTo(x))?.dstMac;
  }
}
