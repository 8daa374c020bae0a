/**
 * The analysis behind `garp-check`, live or offline: feed frames in time order, get one report per ARP/ND
 * frame (classification, problems, optional acceptance prediction, warnings) and, at the end, who announced
 * which address when, and what the clients did afterwards. Pure: no I/O, no clock.
 */
import { classifyArp, classifyNd, type ArpClass, type ArpKind, type NdKind } from './classify.js';
import { MAC_BROADCAST, isGroupMac, isIPv6 } from '../../codecs/addr.js';
import type { Frame } from '../../codecs/decode.js';
import type { Prediction } from './accept-model.js';
import { RecentUnicast, TakeoverClients, showsUsedMac, type ClientBehaviour, type Traffic } from './client-watch.js';

export type { ClientBehaviour } from './client-watch.js';

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
  /** `unsolicited-reply`, `vip-unicast-request`: forms that move a client's entry although classify.ts calls them a reply / unicast request (see movingForm) */
  kind: ArpKind | MovingKind | NdKind;
  label: string;
  gratuitous: boolean;
  problems: string[];
  prediction?: Prediction;
  /** whose kernel the prediction is for: this host (live) or a stock Linux client (offline) */
  predictionFor?: 'this host' | 'a stock client';
  warnings: string[];
}

type MovingKind = 'unsolicited-reply' | 'vip-unicast-request';

/** A reply this long after the target host asked for the sender is its answer (resolution), not an announcement. */
export const SOLICITED_WITHIN_MS = 5000;
/** A DAD probe answered by an NA from another MAC within this long was defended (RFC 4862 5.4). */
export const DAD_DEFENCE_MS = 2000;

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
  /** the last claim per IP (announcements and replies from that IP) */
  private readonly lastClaim = new Map<string, Claim>();
  /** the last GARP (request or reply) per "IP MAC" */
  private readonly lastGarpMs = new Map<string, number>();
  /** per IP, when its takeovers of the last minute happened and by which MAC (for flapping and split brain) */
  private readonly recentTakeovers = new Map<string, { tsMs: number; mac: string }[]>();
  private readonly owner = new Map<string, Takeover>();
  private readonly announcers = new Map<string, GarpSummary['announcers'][number]>();
  /** the clients of each takeover, in takeover order; the last one per IP is the one traffic goes to */
  private readonly clientWatches: TakeoverClients[] = [];
  private readonly currentClients = new Map<string, TakeoverClients>();
  /** takeovers whose old MAC is not known yet (the capture began after the VIP moved), per IP */
  private readonly oldMacUnknown = new Map<string, TakeoverClients[]>();
  private readonly recentUnicast = new RecentUnicast();
  /** when "requester IP>asked IP" last asked: a reply to it is resolution, not an announcement */
  private readonly asked = new Map<string, number>();
  /** IPv6: the last DAD probe per address (who is adding it, when) */
  private readonly dadProbes = new Map<string, { tsMs: number; mac: string }>();
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
      this.observe({ tsMs, srcIp: f.ipv4.src, srcMac: f.eth.src, dstMac: f.eth.dst, ip: f.ipv4.dst });
    }
    if (f.ipv6 && f.eth && !f.nd) {
      this.observe({ tsMs, srcIp: f.ipv6.src, srcMac: f.eth.src, dstMac: f.eth.dst, ip: f.ipv6.dst });
    }
    if (f.nd) return this.addNd(tsMs, relMs, f, prediction, predictionFor);
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
      this.observe({ tsMs, srcIp: a.senderIp, srcMac: a.senderMac, dstMac: f.eth?.dst ?? '', ip: a.targetIp, arp: 'request' });
      this.asked.set(`${a.senderIp}>${a.targetIp}`, tsMs);
    }
    if (this.vip && a.senderIp !== this.vip && a.targetIp !== this.vip) return undefined;
    const moving = this.movingForm(f, c, tsMs);
    const kind = moving?.kind ?? c.kind;
    const gratuitous = c.gratuitous || moving !== undefined;
    this.reported++;
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
    const r: FrameReport = {
      ...this.frameFields(f, tsMs, relMs),
      proto: 'arp',
      op: a.op === 1 ? 'request' : a.op === 2 ? 'reply' : `op ${a.op}`,
      senderMac: a.senderMac,
      senderIp: a.senderIp,
      targetMac: a.targetMac,
      targetIp: a.targetIp,
      kind,
      label: moving?.label ?? c.label,
      gratuitous,
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
    if ((gratuitous || a.op === 2) && a.senderIp !== '0.0.0.0') this.claim(r, a.senderIp, a.senderMac, gratuitous);
    if (prediction && gratuitous && !prediction.accepted && prediction.outcome === 'ignore') {
      r.warnings.push(`${predictionFor} ignores it: ${prediction.reason}`);
    }
    return r;
  }

  /**
   * Frames that move the target host's entry for the sender at once although they are no GARP (the kernel
   * learns from both, see accept-model.ts): a unicast reply nobody asked for (hadiag's unicast-reply form; also
   * what ARP poisoning looks like) and a unicast request from the VIP to a host. A reply to the host's own
   * request is resolution.
   */
  /** What every frame report says about the frame itself: its place in the capture and its link layer. */
  private frameFields(f: Frame, tsMs: number, relMs: number) {
    return { index: this.n - 1, tsMs, relMs, ethSrc: f.eth?.src ?? '', ethDst: f.eth?.dst ?? '', vlan: f.eth?.vlan, vlans: f.eth?.tags?.map((t) => t.id) };
  }

  private movingForm(f: Frame, c: ArpClass, tsMs: number): { kind: MovingKind; label: string } | undefined {
    const a = f.arp!;
    if (c.kind === 'reply' && c.ethDst === 'unicast') {
      const askedMs = this.asked.get(`${a.targetIp}>${a.senderIp}`);
      if (askedMs !== undefined && tsMs - askedMs <= SOLICITED_WITHIN_MS) return undefined;
      return { kind: 'unsolicited-reply', label: `unsolicited unicast reply to ${a.targetIp}` };
    }
    if (c.kind === 'unicast-request' && this.vip !== undefined && a.senderIp === this.vip) {
      return { kind: 'vip-unicast-request', label: `unicast request from the VIP to ${a.targetIp}` };
    }
    return undefined;
  }

  /**
   * An NA or NS: reported when no VIP is watched, or when the watched VIP is IPv6 and the frame is about it (an
   * NA for it, an NS from it or for it). NAs claim their target for their target link-layer address, an NS
   * from the VIP claims the VIP for its source link-layer address; a solicited NA nobody asked for (no NS from
   * its destination for its target within SOLICITED_WITHIN_MS) is an announcement too (hadiag's unicast-reply).
   */
  private addNd(tsMs: number, relMs: number, f: Frame, prediction: Prediction | undefined, predictionFor: FrameReport['predictionFor']): FrameReport | undefined {
    const nd = f.nd!;
    const ip6 = f.ipv6;
    if (this.vip && !isIPv6(this.vip)) return undefined; // an IPv4 VIP is watched: ND is not about it
    const c = classifyNd(f, { vip: this.vip });
    if (!c || !ip6) return undefined;
    if (nd.kind === 'ns' && ip6.src !== '::' && f.eth) {
      // a client asking for an address (resolution to a group, or a probe of the MAC it has cached)
      this.observe({ tsMs, srcIp: ip6.src, srcMac: f.eth.src, dstMac: isGroupMac(f.eth.dst) ? MAC_BROADCAST : f.eth.dst, ip: nd.target, arp: 'request' });
      this.asked.set(`${ip6.src}>${nd.target}`, tsMs);
    }
    if (this.vip && nd.target !== this.vip && ip6.src !== this.vip) return undefined;
    this.dadConflict(tsMs, relMs, f, c.kind);
    const askedMs = this.asked.get(`${ip6.dst}>${nd.target}`);
    const unasked = c.kind === 'solicited-na' && !isGroupMac(f.eth?.dst || '33') && (askedMs === undefined || tsMs - askedMs > SOLICITED_WITHIN_MS);
    const gratuitous = c.gratuitous || unasked;
    this.reported++;
    this.byKind[c.kind] = (this.byKind[c.kind] ?? 0) + 1;
    const r: FrameReport = {
      ...this.frameFields(f, tsMs, relMs),
      proto: 'nd',
      op: nd.kind === 'na' ? `NA [${c.flags}]` : 'NS',
      senderMac: c.mac ?? '',
      senderIp: ip6.src,
      targetMac: '',
      targetIp: nd.target,
      kind: c.kind,
      label: unasked ? `solicited NA nobody asked for, to ${ip6.dst} [${c.flags}]` : c.label,
      gratuitous,
      problems: c.problems,
      prediction,
      predictionFor: prediction ? predictionFor : undefined,
      warnings: [],
    };
    if (c.problems.length && gratuitous) {
      this.malformed++;
      r.warnings.push(...c.problems.map((p) => `malformed announcement: ${p}`));
      this.warn({ code: 'malformed', tsMs, message: `${rel(relMs)}: malformed announcement from ${f.eth?.src ?? ip6.src}: ${c.problems.join('; ')}` }, `malformed:${f.eth?.src ?? ip6.src}:${c.problems[0]}`);
    }
    const claimed = nd.kind === 'na' ? nd.target : ip6.src;
    if (c.mac && (gratuitous || c.kind === 'solicited-na') && claimed !== '::') this.claim(r, claimed, c.mac, gratuitous);
    if (prediction && gratuitous && !prediction.accepted && prediction.outcome === 'ignore') r.warnings.push(`${predictionFor} ignores it: ${prediction.reason}`);
    return r;
  }

  /**
   * A host adding an address without nodad probes it (DAD, NS from ::); if another MAC then advertises that
   * address within DAD_DEFENCE_MS, that is the holder defending it: the prober's copy goes dadfailed — two
   * hosts hold the address (split brain), or the old holder has not let go of the VIP yet.
   */
  private dadConflict(tsMs: number, relMs: number, f: Frame, kind: string): void {
    const nd = f.nd!;
    if (kind === 'dad-ns') {
      this.dadProbes.set(nd.target, { tsMs, mac: f.eth?.src ?? '' });
      return;
    }
    const probe = this.dadProbes.get(nd.target);
    if (nd.kind !== 'na' || !probe || tsMs - probe.tsMs > DAD_DEFENCE_MS || !nd.targetLinkAddr || nd.targetLinkAddr === probe.mac) return;
    this.dadProbes.delete(nd.target);
    this.warn(
      { code: 'split-brain', tsMs, message: `${rel(relMs)}: ${nd.targetLinkAddr} defended ${nd.target} against the DAD probe of ${probe.mac || 'another host'} ${Math.round(tsMs - probe.tsMs)} ms earlier: that host's copy is now dadfailed (two holders, or the old one still has it)` },
      `dad:${nd.target}:${probe.mac}:${nd.targetLinkAddr}`,
    );
  }

  private warn(w: Warning, key?: string): void {
    if (key) {
      if (this.warned.has(key)) return;
      this.warned.add(key);
    }
    this.warnings.push(w);
  }

  private claim(r: FrameReport, ip: string, mac: string, announcement: boolean): void {
    const prev = this.lastClaim.get(ip);
    this.lastClaim.set(ip, { tsMs: r.tsMs, mac, kind: r.kind });
    if (announcement) {
      const key = `${ip} ${mac}`;
      const a = this.announcers.get(key) ?? { ip, mac, count: 0, firstRelMs: r.relMs, lastRelMs: r.relMs, forms: {} };
      a.count++;
      a.lastRelMs = r.relMs;
      a.forms[r.label] = (a.forms[r.label] ?? 0) + 1;
      this.announcers.set(key, a);
      // a burst inside locktime: back-to-back repeats (< 100 ms apart) add no time diversity, and reply
      // repeats whose target MAC is not the sender MAC are ignored by a client inside locktime
      const isAnn = (k: string) => k === 'announce-request' || k === 'announce-reply' || k === 'unsolicited-na';
      const lastSameMs = isAnn(r.kind) ? this.lastGarpMs.get(key) : undefined;
      if (isAnn(r.kind)) this.lastGarpMs.set(key, r.tsMs);
      const gap = lastSameMs !== undefined ? r.tsMs - lastSameMs : Infinity;
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
            { code: 'burst-in-locktime', tsMs: r.tsMs, message: `${rel(r.relMs)}: ${mac} sends its announcements for ${ip} in a burst (${Math.round(gap)} ms apart${r.proto === 'nd' ? '' : `, inside locktime ${this.locktimeMs} ms`}): the repeats add no time diversity if the first is lost or ignored; spread them out` },
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
      const back = this.recentTakeovers.get(ip) ?? [];
      while (back.length > 2 && r.tsMs - back[0]!.tsMs >= 60_000) back.shift();
      const last = back.at(-1);
      const before = back.at(-2);
      if (last && before && before.mac === mac && r.tsMs - last.tsMs < 5000) {
        this.warn({ code: 'split-brain', tsMs: r.tsMs, message: `${rel(r.relMs)}: two MACs claim ${ip} (${last.mac} and ${mac} alternate within 5 s) — split brain or address conflict` }, `split:${ip}:${[last.mac, mac].sort().join()}`);
      }
      const recent = back.filter((x) => r.tsMs - x.tsMs < 60_000);
      if (recent.length >= 3) {
        this.warn({ code: 'mac-flapping', tsMs: r.tsMs, message: `${rel(r.relMs)}: ${ip} changed owner MAC ${recent.length + 1} times within 60 s (flapping)` }, `flap:${ip}:${Math.floor(r.tsMs / 60000)}`);
      }
      back.push({ tsMs: t.tsMs, mac });
      this.recentTakeovers.set(ip, back);
      this.takeovers.push(t);
      this.owner.set(ip, t);
      this.watchClients(t);
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
    for (const w of this.clientWatches) {
      for (const cb of w.behaviours(this.startMs ?? 0, w.tsMs - (this.startMs ?? 0))) {
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

  /** Traffic to an address: for the clients of its current takeover, and to learn which MAC they used. */
  private observe(x: Traffic): void {
    this.recentUnicast.note(x);
    const waiting = this.oldMacUnknown.get(x.ip);
    if (waiting) {
      for (const w of waiting) if (showsUsedMac(x, w.ip, w.newMac)) w.learnOldMac(x.dstMac);
      const still = waiting.filter((w) => w.oldMac === undefined);
      if (still.length) this.oldMacUnknown.set(x.ip, still);
      else this.oldMacUnknown.delete(x.ip);
    }
    this.currentClients.get(x.ip)?.feed(x);
  }

  /** From now on the traffic to `t.ip` tells about the clients of this takeover. */
  private watchClients(t: Takeover): void {
    const oldMac = t.previousMac ?? this.recentUnicast.usedMac(t.ip, t.mac, t.tsMs);
    const w = new TakeoverClients(t.ip, t.mac, t.tsMs, oldMac);
    if (oldMac === undefined) this.oldMacUnknown.set(t.ip, [...(this.oldMacUnknown.get(t.ip) ?? []), w]);
    this.clientWatches.push(w);
    this.currentClients.set(t.ip, w);
  }
}
