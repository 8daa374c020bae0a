/**
 * Announcing a VIP after it was added: a pluggable Announcer. The GARP announcer sends the frames of a
 * strategy (models/strategy/language.ts) through a capture handle opened at start-up, and with
 * `confirm` watches its own interface through a second handle (Linux never loops a frame back to the
 * socket that sent it) to prove each announcement left, keeping a pcap.
 *
 * The handles live in the node process for its whole run and survive the interface going down
 * (effects/io/steady-capture.ts): an announcement made while it is down is sent as soon as it is up again.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nowMs } from '../../core/clock.js';
import { SteadyCapture } from '../io/steady-capture.js';
import { planAnnouncements, planSpanMs, type Strategy, type Client } from '../../models/strategy/language.js';
import { familyOf } from '../../models/strategy/spec-language.js';
import { decodeFrame } from '../../codecs/decode.js';
import type { PairedClient } from '../../models/strategy/client-book.js';
import { PcapWriter } from '../io/pcap-file.js';

export interface AnnounceReport {
  vip: string;
  iface: string;
  planned: number;
  sent: number;
  /** frames seen on the wire by the confirming capture (undefined without confirm) */
  seen?: number;
  /** first frame seen, ms after the address was added */
  firstSeenMs?: number;
  firstSentMs?: number;
  pcap?: string;
}

export interface Announcer {
  /** Announce `vip` on `iface`; `addedAtMs` is when `ip addr add` returned (epoch ms). */
  announce(vip: string, iface: string, addedAtMs: number): void;
  /** Stop announcing a VIP (released). */
  cancel(vip: string): void;
  close(): void;
  /**
   * Announce several VIPs that became present together (a resource group's addresses added in one batch): what
   * each client gets is planned once for all of them.
   */
  announceAll?(vips: { vip: string; iface: string }[], addedAtMs: number): void;
  /** Clients this node learned itself, with the VIPs each uses (sent to peers in hadiag-clients), if the announcer learns any. */
  learnedClients?(): PairedClient[];
  /** Clients a peer learned (hadiag-clients), with the VIPs each uses: addressed by the per-client strategies after takeover. */
  addPeerClients?(list: PairedClient[]): void;
  /** Every client known now and where it was learned (for `hadiag node status`). */
  knownClients?(): (Client & { source: string })[];
  /** Resolves once the announcer has read what it learns at start-up (the neighbour table). */
  readonly ready?: Promise<void>;
}

/** Does this host forward IPv6 on `iface`? Its NAs then carry the router flag (RFC 4861 7.2.4). */
export function forwardsIpv6(iface: string): boolean {
  try {
    return readFileSync(`/proc/sys/net/ipv6/conf/${iface}/forwarding`, 'utf8').trim() !== '0';
  } catch {
    return false;
  }
}

/** A strategy's rate=PPS (the slowest of its parts'), if any. */
function rateOf(s: Strategy): number | undefined {
  const rates = [s, ...(s.parts ?? [])].map((p) => p.ratePps).filter((r): r is number => r !== undefined);
  return rates.length ? Math.min(...rates) : undefined;
}

export function interfaceMac(iface: string): string {
  return readFileSync(`/sys/class/net/${iface}/address`, 'utf8').trim().toLowerCase();
}

interface IfaceHandles {
  mac: string;
  /** rate=PPS: frames due, sent one per slot whatever VIP they announce (the VIPs of a takeover share the wire) */
  paced: { vip: string; frame: Buffer; gapMs: number; send: (f: Buffer) => void }[];
  /** the first instant (epoch ms) the next paced frame may leave */
  nextSlotMs: number;
  pump?: NodeJS.Timeout;
  send: SteadyCapture;
  watch?: SteadyCapture;
  pcap?: PcapWriter;
}

export type AnnounceLog = (level: 'info' | 'warn' | 'error', event: string, text: string, data?: Record<string, unknown>) => void;

interface Running {
  vip: string;
  iface: string;
  addedAtMs: number;
  timers: NodeJS.Timeout[];
  report: AnnounceReport;
  frames: Set<string>;
}

export class GarpAnnouncer implements Announcer {
  private readonly ifaces = new Map<string, IfaceHandles>();
  private readonly running = new Map<string, Running>();
  /** announcements waiting for their interface to come back up */
  private readonly pending = new Map<string, { iface: string; addedAtMs: number; strategy: Strategy; clients?: Client[] }>();

  /**
   * Opens the handles now (start-up), one per interface that can carry a VIP. `confirm` adds a watching
   * handle per interface and a pcap under `captureDir`.
   */
  constructor(
    private readonly strategy: Strategy,
    ifaces: string[],
    private readonly opts: {
      confirm: boolean;
      captureDir: string;
      node: string;
      clients?: Client[];
      onReport: (r: AnnounceReport, final: boolean) => void;
      log?: AnnounceLog;
      /** with confirm, keep what the confirming handle saw in a pcap (default true; the announce sidecar runs without) */
      pcap?: boolean;
      /** the pcap's name prefix (default run-node) */
      pcapPrefix?: string;
      /** the VIPs: with an IPv6 one the confirming handle also sees our NAs and NSs */
      vips?: string[];
    },
  ) {
    for (const iface of new Set(ifaces)) {
      const mac = interfaceMac(iface);
      // the sending handle needs no frames: a filter that matches nothing
      const send = new SteadyCapture(iface, 'less 1', () => {}, { bufferSize: 64 * 1024, onState: (up, detail) => this.onSendState(iface, up, detail) });
      const h: IfaceHandles = { mac, paced: [], nextSlotMs: 0, send };
      if (opts.confirm && opts.pcap !== false) {
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        h.pcap = PcapWriter.create(join(opts.captureDir, `${opts.pcapPrefix ?? 'run-node'}-${opts.node}-${iface}-${stamp}.pcap`));
      }
      if (opts.confirm) {
        const nd = !opts.vips || opts.vips.some((v) => familyOf(v) === 6) ? ' or (icmp6 and (ip6[40] == 135 or ip6[40] == 136))' : '';
        h.watch = new SteadyCapture(iface, `(arp${nd}) and ether src ${mac}`, (frame, ts) => this.onOwnFrame(iface, frame, ts), {
          bufferSize: 256 * 1024,
          onState: (up) => up && this.flushPending(iface),
        });
      }
      this.ifaces.set(iface, h);
    }
  }

  private onSendState(iface: string, up: boolean, detail: string): void {
    this.opts.log?.(up ? 'info' : 'warn', 'garp-handle', up ? `${detail}: announcements possible again` : `${detail}: announcements wait until it is up`, { iface, up });
    if (up) this.flushPending(iface);
  }

  /** Both handles of an interface are open (the sending one, and the confirming one when there is one). */
  private static ready(h: IfaceHandles): boolean {
    return h.send.up && (!h.watch || h.watch.up);
  }

  /** Send what waited for the interface, once its handles are open again. */
  private flushPending(iface: string): void {
    const h = this.ifaces.get(iface);
    if (!h || !GarpAnnouncer.ready(h)) return;
    for (const [vip, p] of [...this.pending]) {
      if (p.iface !== iface) continue;
      this.pending.delete(vip);
      this.announce(vip, iface, p.addedAtMs, p.strategy, p.clients);
    }
  }

  /**
   * Announce with this announcer's strategy, or another one (a fallback) over the same handles; a per-client
   * strategy addresses `clients` (default: the announcer's live client list).
   */
  announce(vip: string, iface: string, addedAtMs: number, strategy: Strategy = this.strategy, clients: Client[] | undefined = this.opts.clients): void {
    const h = this.ifaces.get(iface);
    if (!h) return;
    this.cancel(vip);
    if (!GarpAnnouncer.ready(h)) {
      // sent as soon as the interface is back, with the plan's offsets still counted from addedAtMs
      this.pending.set(vip, { iface, addedAtMs, strategy, ...(clients ? { clients } : {}) });
      return;
    }
    const router = familyOf(vip) === 6 ? forwardsIpv6(iface) : undefined;
    const plan = planAnnouncements(strategy, { vip, mac: h.mac, ...(clients ? { clients } : {}), ...(router !== undefined ? { router } : {}) });
    const report: AnnounceReport = { vip, iface, planned: plan.length, sent: 0 };
    if (h.pcap) report.pcap = h.pcap.path;
    const r: Running = { vip, iface, addedAtMs, timers: [], report, frames: new Set(plan.map((p) => p.frame.toString('hex'))) };
    if (this.opts.confirm) report.seen = 0;
    this.running.set(vip, r);
    const sendOne = (frame: Buffer) => {
      try {
        h.send.send(frame);
        report.sent++;
        if (report.firstSentMs === undefined) report.firstSentMs = nowMs() - addedAtMs;
      } catch {
        /* counted as not sent */
      }
    };
    // one timer per instant of the plan (a round to hundreds of clients is one instant), not one per frame;
    // rate=PPS holds for the interface: due frames of every VIP queue for its slots
    const rate = rateOf(strategy);
    const byOffset = new Map<number, Buffer[]>();
    for (const p of plan) {
      const at = byOffset.get(p.offsetMs);
      if (at) at.push(p.frame);
      else byOffset.set(p.offsetMs, [p.frame]);
    }
    const due = rate ? (frames: Buffer[]) => this.enqueuePaced(h, vip, frames, 1000 / rate, sendOne) : (frames: Buffer[]) => frames.forEach(sendOne);
    for (const [offsetMs, frames] of byOffset) {
      const delay = offsetMs - (nowMs() - addedAtMs);
      if (delay <= 0) due(frames);
      else r.timers.push(setTimeout(() => due(frames), delay));
    }
    // report once the plan is over (plus a little for the watching capture)
    const queuedMs = rate ? ((h.paced.length + plan.length) * 1000) / rate : 0;
    r.timers.push(
      setTimeout(() => {
        this.opts.onReport(report, true);
        if (this.running.get(vip) === r) this.running.delete(vip);
      }, Math.max(planSpanMs(plan), queuedMs) + 300),
    );
  }

  private enqueuePaced(h: IfaceHandles, vip: string, frames: Buffer[], gapMs: number, send: (f: Buffer) => void): void {
    for (const frame of frames) h.paced.push({ vip, frame, gapMs, send });
    if (!h.pump) this.pump(h);
  }

  /** Send the paced frames whose slot has come; a late timer catches up by one slot, never more. */
  private pump(h: IfaceHandles): void {
    h.pump = undefined;
    const now = nowMs();
    while (h.paced.length && now >= h.nextSlotMs) {
      const e = h.paced.shift()!;
      e.send(e.frame);
      h.nextSlotMs = Math.max(h.nextSlotMs, now - e.gapMs) + e.gapMs;
    }
    if (h.paced.length) h.pump = setTimeout(() => this.pump(h), Math.max(0, h.nextSlotMs - now));
  }

  private onOwnFrame(iface: string, frame: Buffer, ts: number): void {
    const h = this.ifaces.get(iface);
    h?.pcap?.write(ts, frame);
    const f = decodeFrame(frame);
    // an ARP frame names the VIP as its sender; every NA and NS we plan is sent from the VIP
    const ip = f.arp?.senderIp ?? (f.nd ? f.ipv6?.src : undefined);
    if (!ip) return;
    const r = this.running.get(ip);
    if (!r || r.iface !== iface || r.report.seen === undefined) return;
    if (!r.frames.has(frame.toString('hex'))) return;
    r.report.seen++;
    if (r.report.firstSeenMs === undefined) {
      r.report.firstSeenMs = ts - r.addedAtMs;
      this.opts.onReport(r.report, false);
    }
  }

  cancel(vip: string): void {
    this.pending.delete(vip);
    for (const h of this.ifaces.values()) if (h.paced.some((e) => e.vip === vip)) h.paced = h.paced.filter((e) => e.vip !== vip);
    const r = this.running.get(vip);
    if (!r) return;
    for (const t of r.timers) clearTimeout(t);
    this.running.delete(vip);
  }

  close(): void {
    for (const vip of [...this.running.keys()]) this.cancel(vip);
    this.pending.clear();
    for (const h of this.ifaces.values()) {
      if (h.pump) clearTimeout(h.pump);
      h.paced = [];
      h.send.close();
      h.watch?.close();
      h.pcap?.close();
    }
    this.ifaces.clear();
  }
}
