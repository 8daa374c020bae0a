/**
 * The node's announcer for every strategy form (the `Announcer` of garp-announcer.ts):
 *  - frame forms (request, reply, both, directed, unicast-reply, answer-probes, vmac) go through the node's
 *    GarpAnnouncer (capture handles opened at start-up that survive the link going down, optional
 *    confirmation capture);
 *  - directed / unicast-reply address the clients the node has learned (ClientBook: a watching capture on each
 *    VIP interface, the neighbour table polled every few seconds, and peers' lists);
 *  - answer-probes also answers, while the VIP is held, the ARP probes clients still send to the dead MAC;
 *  - arping / send_arp run the external program at takeover.
 * With no client known at takeover, a per-client strategy falls back to `both` GARP rounds (logged).
 *
 * An IPv6 VIP is announced with neighbour discovery: the strategy resolved for its family (`default` is
 * DEFAULT_STRATEGY[6]), the router flag from the interface's `forwarding`, the book learning IPv6 clients (ND
 * in the watching capture, `ip -6 -json neigh`), the NSs for the VIP sent to the dead MAC answered. Per-client
 * forms with no client of the VIP's family known are left out of the plan (logged); a strategy of nothing but
 * them falls back to unsolicited NA rounds.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { nowMs } from '../../core/clock.js';
import { SteadyCapture } from '../io/steady-capture.js';
import { GarpAnnouncer, forwardsIpv6, interfaceMac, type AnnounceLog, type AnnounceReport, type Announcer } from './garp-announcer.js';
import { parseStrategy, planAnnouncements, resolveStrategy, type Client, type Strategy } from '../../models/strategy/language.js';
import { familyOf, type Family } from '../../models/strategy/spec-language.js';
import { ClientBook, parseProcNetArp, type PairedClient } from '../../models/strategy/client-book.js';
import { answerFor } from '../../models/strategy/probe-answer.js';
import { answersProbes, formsOf, isExternal, needsClients, usesVmac, vmacOf, withoutClientForms } from '../../models/strategy/forms.js';
import { checkNodeStrategy } from '../../models/strategy/node-check.js';
import { readNeighJson6 } from '../io/host-neigh.js';

import { externalArgv, externalProgram } from './external.js';

/** What a per-client strategy sends when no client is known at takeover: Heartbeat IPaddr's send_arp pattern. */
export const FALLBACK_GARP = 'both:count=10,interval=250ms';
/** The same for an IPv6 VIP: unsolicited NAs (override set, target link-layer option) as often. */
export const FALLBACK_GARP6 = 'na:count=10,interval=250ms';

export interface AnnouncerOptions {
  confirm: boolean;
  captureDir: string;
  node: string;
  /** clients given on the command line (always addressed) */
  clients?: Client[];
  onReport: (r: AnnounceReport, final: boolean) => void;
  /** the VIPs this node may hold (clients are hosts that use them) */
  vips?: string[];
  log?: AnnounceLog;
  /** how often the neighbour table is read (ms; default 5000) */
  neighPollMs?: number;
  /** with confirm, keep a pcap of what the confirming handle saw (default true) */
  pcap?: boolean;
  pcapPrefix?: string;
}

export function createAnnouncer(strategy: Strategy, ifaces: string[], opts: AnnouncerOptions): Announcer {
  checkNodeStrategy(strategy);
  for (const family of new Set((opts.vips ?? []).map(familyOf))) checkNodeStrategy(strategy, '--garp', family);
  return new NodeAnnouncer(strategy, ifaces, opts);
}

interface Watch {
  iface: string;
  mac: string;
  cap: SteadyCapture;
}

class NodeAnnouncer implements Announcer {
  readonly book: ClientBook;
  private garp?: GarpAnnouncer;
  /** what a per-client strategy sends when it knows no client of the VIP's family (over the same handles) */
  private readonly fallback = new Map<Family, Strategy>();
  /** the strategy resolved for each family of the VIPs (every family when none is given) */
  private readonly byFamily = new Map<Family, Strategy>();
  /** IPv6: the interfaces that forward (router flag of the answers to probes) */
  private readonly routerIfaces = new Set<string>();
  private readonly watches: Watch[] = [];
  /** VIP → our MAC, while held (answer-probes) */
  private readonly held = new Map<string, string>();
  private readonly heldIface = new Map<string, string>();
  private readonly lastAnswer = new Map<string, number>();
  private readonly children = new Map<string, number[]>();
  private poll?: NodeJS.Timeout;
  private readonly log: AnnounceLog;
  answered = 0;
  /** resolves once the neighbour table has been read the first time (at once when the strategy learns no clients) */
  ready: Promise<void> = Promise.resolve();

  constructor(
    private readonly strategy: Strategy,
    private readonly ifaces: string[],
    private readonly opts: AnnouncerOptions,
  ) {
    this.log = opts.log ?? (() => {});
    const macs = [...new Set(ifaces)].map((i) => interfaceMac(i));
    const families: Family[] = opts.vips?.length ? [...new Set(opts.vips.map(familyOf))] : [4, 6];
    for (const f of families) this.byFamily.set(f, resolveStrategy(strategy, f));
    const used = [...this.byFamily.values()];
    this.book = new ClientBook({ vips: opts.vips ?? [], ownMacs: macs, ipv6: families.includes(6) });
    for (const c of opts.clients ?? []) this.book.add(c.ip, c.mac, 'spec', nowMs());
    const learns = used.some((s) => needsClients(s));
    const answers = used.some((s) => answersProbes(s));
    if (isExternal(strategy)) externalProgram(strategy); // fail at start-up, not at takeover
    else this.garp = new GarpAnnouncer(strategy, ifaces, { ...opts, clients: used.every((s) => !needsClients(s)) ? undefined : this.book.list, log: this.log });
    for (const [f, s] of this.byFamily) if (needsClients(s)) this.fallback.set(f, parseStrategy(f === 6 ? FALLBACK_GARP6 : FALLBACK_GARP, '--garp'));
    if (usesVmac(strategy)) this.checkVmac();
    if (learns || answers) this.startWatching(answers, families.includes(6));
    this.warmUp(macs[0]);
  }

  /**
   * Plan once at start-up what a takeover sends, and throw it away: the first plan of a process costs ~30–60 ms
   * (node:net's isIPv6 compiles its address regex on first use, the frame builders get compiled), which
   * measured as the first takeover's whole latency.
   */
  private warmUp(mac: string | undefined): void {
    if (!mac || !this.garp) return;
    for (const vip of this.opts.vips?.length ? this.opts.vips : ['198.18.0.1']) {
      const family = familyOf(vip);
      for (const s of [this.byFamily.get(family) ?? this.strategy, ...(this.fallback.has(family) ? [this.fallback.get(family)!] : [])]) {
        try {
          planAnnouncements(s, { vip, mac, clients: s.clients?.length ? undefined : [{ ip: vip, mac }] });
        } catch {
          /* the real plan reports its own errors */
        }
      }
    }
  }

  private checkVmac(): void {
    const want = vmacOf(this.strategy);
    for (const iface of new Set(this.ifaces)) {
      const mac = interfaceMac(iface);
      if (mac !== want) {
        this.log('warn', 'vmac', `the VIP interface ${iface} has MAC ${mac}, not the virtual MAC ${want}: clients will have to re-learn the MAC at takeover`, {
          fix: `ip link add link BASE name vmac0 address ${want} type macvlan mode bridge; sysctl -w net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.BASE.arp_ignore=1; put the VIP on vmac0 in haresources (IPaddr::VIP/24/vmac0)`,
        });
      }
    }
  }

  private startWatching(answer: boolean, ipv6: boolean): void {
    const vips = (this.opts.vips ?? []).filter((v) => familyOf(v) === 4);
    // IPv6: neighbour solicitations and advertisements only (the clients' resolution and NUD probes, their
    // addresses; the probes to the dead MAC are what answer-probes answers)
    const ndPart = ipv6 ? ' or (icmp6 and (ip6[40] == 135 or ip6[40] == 136))' : '';
    for (const iface of new Set(this.ifaces)) {
      const mac = interfaceMac(iface);
      // Traffic to the VIP teaches us clients only while the VIP is elsewhere (frames flooded to us, e.g. in the
      // outage before we take over); while we hold it every frame is addressed to our MAC and the kernel's
      // neighbour table has each client it answers (read every few seconds). One frame in eight (by the IP ID's
      // low bits) is enough to learn a talking client: hundreds of clients flood tens of thousands a second.
      // While we hold a VIP, one frame to it in 1 024 teaches which VIPs each client uses (the (client, VIP) pairs
      // the peer book carries) at a few frames a second.
      const dsts = vips.map((v) => `dst host ${v}`).join(' or ');
      const ipPart = vips.length ? ` or (ip and (${dsts}) and ((not ether dst ${mac} and ip[5] & 7 = 0) or ip[4:2] & 0x3ff = 0))` : '';
      const cap = new SteadyCapture(iface, `arp${ipPart}${ndPart}`, (frame, ts) => this.onFrame(iface, frame, ts, answer), { bufferSize: 256 * 1024 });
      this.watches.push({ iface, mac, cap });
    }
    const readNeigh = async () => {
      try {
        const entries = parseProcNetArp(await readFile('/proc/net/arp', 'utf8'));
        if (ipv6) entries.push(...(await readNeighJson6()));
        const n = this.book.learnNeigh(entries, nowMs(), this.ifaces);
        if (n) this.log('info', 'clients', `${n} client(s) learned from the neighbour table (${this.book.size} known)`);
      } catch {
        /* unreadable: next poll */
      }
    };
    this.ready = readNeigh();
    this.poll = setInterval(() => void readNeigh(), this.opts.neighPollMs ?? 5000);
    this.poll.unref();
  }

  /** IPv4 (source, destination) pair (as a number) → when a frame of it was last learned from */
  private readonly recentIpv4 = new Map<number, number>();

  private onFrame(iface: string, frame: Buffer, ts: number, answer: boolean): void {
    // During an outage the bridge floods every client's traffic for the dead holder to us (tens of thousands
    // of frames a second with hundreds of clients): learn each IPv4 (sender, VIP) once a second, not per frame.
    const ipv4 = frame.length >= 34 && frame.readUInt16BE(12) === 0x0800;
    // a (client, VIP) pair: the source and the destination's low 20 bits (exact below 2^53)
    const src = ipv4 ? frame.readUInt32BE(26) * 0x100000 + (frame.readUInt32BE(30) & 0xfffff) : 0;
    const fresh = !ipv4 || ts - (this.recentIpv4.get(src) ?? -Infinity) >= 1000;
    if (fresh) {
      if (ipv4) {
        if (this.recentIpv4.size >= 65_536) this.recentIpv4.clear();
        this.recentIpv4.set(src, ts);
      }
      this.book.learnFrame(frame, ts);
    }
    if (!answer || this.held.size === 0 || ipv4) return;
    const a = answerFor(frame, this.held, { router: this.routerIfaces.has(iface) });
    if (!a || this.heldIface.get(a.seen.vip) !== iface) return;
    const key = `${a.seen.vip} ${a.seen.clientIp}`;
    if (ts - (this.lastAnswer.get(key) ?? -Infinity) < 50) return;
    this.lastAnswer.set(key, ts);
    const w = this.watches.find((x) => x.iface === iface);
    try {
      w?.cap.send(a.reply);
      this.answered++;
      this.log('info', 'probe-answered', `${a.seen.clientIp} (${a.seen.clientMac}) asked the dead MAC ${a.seen.deadMac} for ${a.seen.vip}: answered with our MAC`, { ...a.seen });
    } catch {
      /* counted as not sent */
    }
  }

  /** Clients known now (what a per-client strategy addresses). */
  clients(): Client[] {
    return [...this.book.list];
  }

  knownClients(): (Client & { source: string })[] {
    return this.book.clients().map((c) => ({ ip: c.ip, ...(c.mac ? { mac: c.mac } : {}), source: c.source }));
  }

  /** Clients this node learned itself, with the VIPs each uses (the peer message; what a peer told us is not echoed back). */
  learnedClients(): PairedClient[] {
    return this.book.paired((c) => c.source !== 'peer');
  }

  /** Clients a peer told us about, with the VIPs each uses (none: every VIP). */
  addPeerClients(list: PairedClient[]): void {
    const now = nowMs();
    for (const c of list) {
      if (!c.vips?.length) this.book.add(c.ip, c.mac, 'peer', now);
      for (const v of c.vips ?? []) this.book.add(c.ip, c.mac, 'peer', now, v);
    }
  }

  announce(vip: string, iface: string, addedAtMs: number): void {
    this.announceAll([{ vip, iface }], addedAtMs);
  }

  /** The VIPs of one takeover: whom each goes to is planned once, from the (client, VIP) pairs of the book. */
  announceAll(vips: { vip: string; iface: string }[], addedAtMs: number): void {
    for (const { vip } of vips) this.book.addVip(vip);
    const perClient = vips.some(({ vip }) => needsClients(this.byFamily.get(familyOf(vip)) ?? resolveStrategy(this.strategy, familyOf(vip))));
    const pairs = perClient ? this.book.pairsFor(vips.map((v) => v.vip)) : undefined;
    if (pairs) this.logPairs(pairs);
    for (const { vip, iface } of vips) this.announceOne(vip, iface, addedAtMs, pairs?.get(vip) ?? []);
  }

  private logPairs(pairs: Map<string, Client[]>): void {
    const lists = [...pairs.values()];
    const count = lists.reduce((n, l) => n + l.length, 0);
    if (pairs.size === 1) {
      const [[vip, mine]] = [...pairs];
      const shown = mine!.slice(0, 20).map((c) => c.ip).join(' ');
      this.log('info', 'clients', `announcing ${vip} to ${mine!.length} known client(s), most recently seen first: ${shown}${mine!.length > 20 ? ` … (${mine!.length - 20} more)` : ''}`, { count: mine!.length });
      return;
    }
    const clients = new Set(lists.flatMap((l) => l.map((c) => c.ip))).size;
    this.log('info', 'clients', `announcing ${pairs.size} VIPs to ${clients} known client(s): ${count} (client, VIP) pairs, each client for the VIPs it was seen using (every VIP for a client seen using none), most recently seen first`, { count: clients, pairs: count, vips: pairs.size });
  }

  private announceOne(vip: string, iface: string, addedAtMs: number, known: Client[]): void {
    const family = familyOf(vip);
    const s = this.byFamily.get(family) ?? resolveStrategy(this.strategy, family);
    let mac: string | undefined;
    try {
      mac = interfaceMac(iface);
    } catch {
      /* gone */
    }
    if (mac && answersProbes(s)) {
      this.held.set(vip, mac);
      this.heldIface.set(vip, iface);
      if (family === 6 && forwardsIpv6(iface)) this.routerIfaces.add(iface);
    }
    if (isExternal(s)) return this.runExternal(vip, iface, addedAtMs);
    const noMac = formsOf(s).some((p) => p.form === 'unicast-reply' && !p.clients?.length) && !known.some((c) => c.mac);
    if (needsClients(s) && (known.length === 0 || noMac)) {
      const rest = withoutClientForms(s) ?? this.fallback.get(family)!;
      const what = known.length === 0 ? `no client of ${vip} known at takeover` : 'no client MAC known at takeover';
      const instead = rest === this.fallback.get(family) ? `falls back to ${family === 6 ? 'unsolicited NA' : 'request+reply GARP'} rounds (${rest.spec})` : `sends ${rest.spec} only`;
      this.log('warn', 'clients', `${what}: ${s.spec} ${instead}`);
      this.garp?.announce(vip, iface, addedAtMs, rest);
      return;
    }
    this.garp?.announce(vip, iface, addedAtMs, s, needsClients(s) ? known : undefined);
  }

  private runExternal(vip: string, iface: string, addedAtMs: number): void {
    const s = resolveStrategy(this.strategy, familyOf(vip));
    let program: string;
    try {
      program = externalProgram(s);
    } catch (err) {
      this.log('error', 'garp', (err as Error).message);
      return;
    }
    const count = s.bursts[0]!;
    const frames = planAnnouncements(s, { vip, mac: interfaceMac(iface) }).length;
    const report: AnnounceReport = { vip, iface, planned: frames, sent: 0 };
    const pids: number[] = [];
    this.children.set(vip, pids);
    const once = (final: boolean) => {
      const argv = externalArgv(s, program, iface, vip, count);
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
      if (child.pid) pids.push(child.pid);
      let err = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
      if (report.firstSentMs === undefined) report.firstSentMs = nowMs() - addedAtMs;
      child.on('close', (code) => {
        if (code === 0) report.sent += frames;
        else this.log('warn', 'garp', `${argv.join(' ')} exited ${code}: ${err.trim().split('\n')[0] ?? ''}`);
        if (final) this.opts.onReport(report, true);
      });
      child.on('error', (e) => this.log('error', 'garp', `${argv[0]}: ${e.message}`));
    };
    once(!s.refreshMs);
    if (s.refreshMs) {
      const t = setInterval(() => (this.children.has(vip) ? once(false) : clearInterval(t)), s.refreshMs);
      t.unref();
      this.refreshTimers.set(vip, t);
    }
  }

  private readonly refreshTimers = new Map<string, NodeJS.Timeout>();

  cancel(vip: string): void {
    this.held.delete(vip);
    this.heldIface.delete(vip);
    const t = this.refreshTimers.get(vip);
    if (t) clearInterval(t);
    this.refreshTimers.delete(vip);
    for (const pid of this.children.get(vip) ?? []) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* exited */
      }
    }
    this.children.delete(vip);
    this.garp?.cancel(vip);
  }

  close(): void {
    for (const vip of [...this.children.keys(), ...this.held.keys()]) this.cancel(vip);
    if (this.poll) clearInterval(this.poll);
    for (const w of this.watches) w.cap.close();
    this.watches.length = 0;
    this.garp?.close();
  }
}
