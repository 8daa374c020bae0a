/**
 * Known clients: who the node has seen using (or able to use) the VIP before a takeover, so that the
 * per-client strategies (directed, unicast-reply) know whom to address. Pure: a book of clients fed by
 *  - frames seen by the node's capture: an ARP request for a VIP (the asker is a client), any ARP from a
 *    host (its IP/MAC pair), and IPv4 traffic to a VIP (source IP/MAC);
 *  - the node's own neighbour table (`ip -json neigh`);
 *  - a peer's list (the hadiag-clients message between hadiag nodes).
 * With `ipv6: true` the book also learns IPv6 clients (off by default: an IPv4 node's book is as it was):
 * an NS for a VIP (the asker, with its source link-layer option or Ethernet source), any NA/NS with a
 * link-layer option (its address/MAC pair), IPv6 traffic to a VIP, and the IPv6 entries of `ip -json neigh`.
 * A host may appear twice (its link-local and global addresses): an NS from the VIP to either teaches it.
 * Pairs: a client's traffic to a VIP and its ARP request / NS for a VIP teach the (client, VIP) pair; a takeover
 * addresses each client for its own VIPs only (`pairsFor`), and a client known without any VIP (neighbour
 * table, an ARP of its own, a peer book of the older format) for every VIP.
 * What it cannot know: a client that has been silent since the node started watching (its entry for the
 * VIP stays valid and it re-confirms it with unicast probes only the holder sees), clients behind a router
 * (they ARP for the router, not the VIP), and whether a learned host still exists.
 */
import { decodeFrame, type Frame } from '../../codecs/decode.js';
import { normMac, isGroupMac, isIPv6 } from '../../codecs/addr.js';
import type { Client } from './language.js';

export type ClientSource = 'arp-request' | 'arp' | 'ns-request' | 'nd' | 'ip-to-vip' | 'neigh' | 'peer' | 'spec';

export interface KnownClient extends Client {
  source: ClientSource;
  lastSeenMs: number;
  /** the VIPs it was seen using, and when last */
  pairs?: Map<string, number>;
}

/** A client with the VIPs it uses (none: every VIP): what the book hands a peer and a takeover. */
export interface PairedClient extends Client {
  vips?: string[];
}

export interface BookOptions {
  /** the VIPs (never clients themselves) */
  vips: string[];
  /** this node's own addresses and MACs (never clients) */
  ownIps?: string[];
  ownMacs?: string[];
  /** most clients kept (oldest dropped) */
  max?: number;
  /** learn IPv6 clients too (neighbour discovery, IPv6 traffic, IPv6 neighbour entries); default false */
  ipv6?: boolean;
}

const RANK: Record<ClientSource, number> = { spec: 5, 'arp-request': 4, 'ns-request': 4, 'ip-to-vip': 3, peer: 2, neigh: 1, arp: 0, nd: 0 };

/** Addresses that are never a client: unspecified, loopback, multicast (IPv4 and IPv6). */
const notAClient = (ip: string): boolean => !ip || ip === '0.0.0.0' || ip.startsWith('127.') || ip.endsWith('.255') || ip === '::' || ip === '::1' || /^ff/i.test(ip);

export class ClientBook {
  private readonly byIp = new Map<string, KnownClient>();
  private readonly vips: Set<string>;
  private readonly ownIps: Set<string>;
  private readonly ownMacs: Set<string>;
  /** the live list handed to the announcer (kept up to date in place) */
  readonly list: Client[] = [];

  constructor(private readonly o: BookOptions) {
    this.vips = new Set(o.vips);
    this.ownIps = new Set(o.ownIps ?? []);
    this.ownMacs = new Set((o.ownMacs ?? []).map((m) => m.toLowerCase()));
  }

  addVip(vip: string): void {
    if (this.vips.has(vip)) return;
    this.vips.add(vip);
    if (this.byIp.delete(vip)) this.sync();
  }

  /** Add or refresh one client (and its pair with `vip`, when one of our VIPs); returns true when it is new. */
  add(ip: string, mac: string | undefined, source: ClientSource, nowMs: number, vip?: string): boolean {
    if (notAClient(ip) || this.vips.has(ip) || this.ownIps.has(ip)) return false;
    const m = mac ? normMac(mac) : undefined;
    if (m && (this.ownMacs.has(m) || isGroupMac(m) || m === '00:00:00:00:00:00')) return false;
    const old = this.byIp.get(ip);
    if (vip !== undefined && this.vips.has(vip)) {
      const c = old ?? { ip, source, lastSeenMs: nowMs };
      (c.pairs ??= new Map()).set(vip, Math.max(nowMs, c.pairs.get(vip) ?? -Infinity));
      if (!old) return this.insert(c, m);
    }
    if (old) {
      old.lastSeenMs = Math.max(old.lastSeenMs, nowMs);
      if (RANK[source] > RANK[old.source]) old.source = source;
      // the live list holds ip and MAC only: rebuilt when a MAC changes, not on every sighting (hundreds a second)
      if (m && m !== old.mac) {
        old.mac = m;
        const i = this.byAddressOrder ? lowerBound(this.list, ip) : -1;
        if (i >= 0 && this.list[i]?.ip === ip) this.list[i] = toClient(old);
        else this.sync();
      }
      return false;
    }
    return this.insert({ ip, source, lastSeenMs: nowMs }, m);
  }

  private insert(c: KnownClient, mac: string | undefined): true {
    if (mac) c.mac = mac;
    this.byIp.set(c.ip, c);
    const max = this.o.max ?? 1024;
    if (this.byIp.size > max) {
      const oldest = [...this.byIp.values()].sort((a, b) => a.lastSeenMs - b.lastSeenMs)[0]!;
      this.byIp.delete(oldest.ip);
      this.sync();
    } else if (this.byAddressOrder) this.list.splice(lowerBound(this.list, c.ip), 0, toClient(c));
    else this.sync();
    return true;
  }

  /** Learn from one Ethernet frame; returns the client it revealed, if any. */
  learnFrame(frame: Buffer, nowMs: number): KnownClient | undefined {
    const f = decodeFrame(frame);
    if (f.arp) {
      const a = f.arp;
      if (a.senderIp === a.targetIp) return undefined; // announcements (someone's GARP), not a client
      const asks = this.vips.has(a.targetIp) && a.op === 1;
      if (this.add(a.senderIp, a.senderMac, asks ? 'arp-request' : 'arp', nowMs, asks ? a.targetIp : undefined) || asks) return this.byIp.get(a.senderIp);
      return undefined;
    }
    if (f.ipv4 && f.eth && this.vips.has(f.ipv4.dst)) {
      if (this.add(f.ipv4.src, f.eth.src, 'ip-to-vip', nowMs, f.ipv4.dst)) return this.byIp.get(f.ipv4.src);
    }
    if (this.o.ipv6 && f.ipv6 && f.eth) return this.learnIpv6(f, f.ipv6.src, f.eth.src, nowMs);
    return undefined;
  }

  /** IPv6: an NS for a VIP (the asker is a client), any NA/NS with its link-layer option, traffic to a VIP. */
  private learnIpv6(f: Frame, src: string, ethSrc: string, nowMs: number): KnownClient | undefined {
    if (f.nd) {
      const nd = f.nd;
      if (nd.kind === 'ns') {
        if (src === '::') return undefined; // DAD
        const asks = this.vips.has(nd.target);
        const mac = nd.sourceLinkAddr ?? ethSrc;
        if (this.add(src, mac, asks ? 'ns-request' : 'nd', nowMs, asks ? nd.target : undefined) || asks) return this.byIp.get(src);
        return undefined;
      }
      // an NA tells its target's MAC; one for a VIP is an announcement (someone's), not a client
      if (this.vips.has(nd.target) || !nd.targetLinkAddr) return undefined;
      return this.add(nd.target, nd.targetLinkAddr, 'nd', nowMs) ? this.byIp.get(nd.target) : undefined;
    }
    if (this.vips.has(f.ipv6!.dst) && this.add(src, ethSrc, 'ip-to-vip', nowMs, f.ipv6!.dst)) return this.byIp.get(src);
    return undefined;
  }

  /** Learn from `ip -json neigh` output (entries on the VIP interfaces that have a MAC). */
  learnNeigh(entries: NeighJson[], nowMs: number, ifaces?: string[]): number {
    let n = 0;
    for (const e of entries) {
      if (!e.dst || !e.lladdr || (e.dst.includes(':') && !this.o.ipv6)) continue;
      if (ifaces && e.dev && !ifaces.includes(e.dev)) continue;
      if ((e.state ?? []).some((s) => s === 'FAILED' || s === 'INCOMPLETE')) continue;
      if (this.add(e.dst, e.lladdr, 'neigh', nowMs)) n++;
    }
    return n;
  }

  clients(): KnownClient[] {
    return [...this.byIp.values()].sort(byAddress);
  }

  /**
   * Put the live list in takeover order, the clients seen most recently first (once per takeover: with
   * hundreds of clients and a paced plan, the ones talking now are re-pointed first). The next change to the
   * book puts it back in address order.
   */
  orderByRecency(): void {
    const now = [...this.byIp.values()].sort((a, b) => b.lastSeenMs - a.lastSeenMs || byAddress(a, b)).map(toClient);
    this.list.splice(0, this.list.length, ...now);
    this.byAddressOrder = false;
  }

  /**
   * The clients to address for each of `vips` (one takeover, planned once for all of them), most recently seen
   * first: a client for the VIPs it was seen using, a client known without any VIP for every VIP of its family.
   * A VIP nobody was seen using goes to every known client of its family (what it would have without pairs).
   */
  pairsFor(vips: readonly string[]): Map<string, Client[]> {
    const out = new Map<string, Client[]>(vips.map((v) => [v, []]));
    const recent = [...this.byIp.values()].sort((a, b) => b.lastSeenMs - a.lastSeenMs || byAddress(a, b));
    const paired = new Set<string>();
    for (const c of recent) {
      if (!c.pairs) continue;
      for (const v of c.pairs.keys()) {
        const list = out.get(v);
        if (!list) continue;
        list.push(toClient(c));
        paired.add(v);
      }
    }
    const open = recent.filter((c) => !c.pairs);
    for (const v of vips) {
      const six = v.includes(':');
      const ofFamily = (c: KnownClient) => c.ip.includes(':') === six;
      if (!paired.has(v)) out.set(v, recent.filter(ofFamily).map(toClient));
      else if (open.some(ofFamily)) out.set(v, mergeByRecency(out.get(v)!, open.filter(ofFamily).map(toClient), this.byIp));
    }
    return out;
  }

  /** Every client with the VIPs it was seen using (what the peer book carries). */
  paired(filter: (c: KnownClient) => boolean = () => true): PairedClient[] {
    return this.clients().filter(filter).map((c) => ({ ...toClient(c), ...(c.pairs ? { vips: [...c.pairs.keys()] } : {}) }));
  }

  get size(): number {
    return this.byIp.size;
  }

  /** Is the live list in address order (a new client is then inserted in place, not the whole list re-sorted)? */
  private byAddressOrder = true;

  private sync(): void {
    const now = this.clients().map(toClient);
    this.list.splice(0, this.list.length, ...now);
    this.byAddressOrder = true;
  }
}

export interface NeighJson {
  dst?: string;
  dev?: string;
  lladdr?: string;
  state?: string[];
}

/**
 * The kernel's IPv4 neighbour table as /proc/net/arp prints it (a file read, where `ip -json neigh` is a
 * process): `IP address  HW type  Flags  HW address  Mask  Device`; flags without ATF_COM (0x2) are unresolved.
 */
export function parseProcNetArp(text: string): NeighJson[] {
  const out: NeighJson[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [dst, , flags, lladdr, , dev] = line.trim().split(/\s+/);
    if (!dst || !dev || !lladdr) continue;
    const complete = (parseInt(flags ?? '0', 16) & 0x2) !== 0;
    out.push({ dst, dev, lladdr: lladdr.toLowerCase(), state: [complete ? 'REACHABLE' : 'INCOMPLETE'] });
  }
  return out;
}

const toClient = (c: KnownClient): Client => ({ ip: c.ip, ...(c.mac ? { mac: c.mac } : {}) });

/** Two lists each most recently seen first, as one. */
function mergeByRecency(a: Client[], b: Client[], book: Map<string, KnownClient>): Client[] {
  const seen = (c: Client) => book.get(c.ip)?.lastSeenMs ?? 0;
  const out: Client[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) out.push(j >= b.length || (i < a.length && seen(a[i]!) >= seen(b[j]!)) ? a[i++]! : b[j++]!);
  return out;
}

/** The first index of an address-ordered list whose client is not before `ip`. */
function lowerBound(list: Client[], ip: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (byAddress(list[mid]!, { ip }) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function ipNum(ip: string): number {
  return ip.split('.').reduce((a, b) => a * 256 + Number(b), 0);
}

/** IPv4 clients in numeric order, then IPv6 ones in text order. */
function byAddress(a: Client, b: Client): number {
  const a6 = a.ip.includes(':');
  const b6 = b.ip.includes(':');
  if (a6 !== b6) return a6 ? 1 : -1;
  return a6 ? (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0) : ipNum(a.ip) - ipNum(b.ip);
}

/** Most clients one peer message carries (older receivers take no more from one message). */
export const MAX_PEER_CLIENTS = 64;
/**
 * Bytes of its own fields a hadiag-clients message carries at most: with Heartbeat's own fields (~300 B with
 * a sha1 signature) the message stays one datagram of ≤ ~1 400 bytes (no IP fragments), whatever the family.
 */
export const PEER_BOOK_BYTES = 1000;

/** One hadiag-clients message's fields: `clients` as ever; `vips` and `pairs` (the VIPs each client uses) when any client has some. */
export interface PeerBookPart {
  clients: string;
  /** the VIPs the part's clients use, space separated */
  vips?: string;
  /** per client (same order): indexes into `vips`, comma separated, or `*` (every VIP) */
  pairs?: string;
}

const clientToken = (c: Client) => (c.mac ? `${c.ip}@${c.mac}` : c.ip);

/**
 * A book of any size as hadiag-clients messages, each at most `budget` bytes of fields and MAX_PEER_CLIENTS
 * clients. A receiver of the older format reads `clients` only (every VIP for each). A client whose VIPs alone
 * overflow a message goes as `*`.
 */
export function packPeerBook(list: PairedClient[], budget = PEER_BOOK_BYTES): PeerBookPart[] {
  const parts: PeerBookPart[] = [];
  let clients: string[] = [];
  let pairs: string[] = [];
  let vips = new Map<string, number>();
  let bytes = 0;
  const close = () => {
    if (!clients.length) return;
    const paired = pairs.some((p) => p !== '*');
    parts.push({ clients: clients.join(' '), ...(paired ? { vips: [...vips.keys()].join(' '), pairs: pairs.join(' ') } : {}) });
    [clients, pairs, vips, bytes] = [[], [], new Map(), 0];
  };
  const cost = (c: PairedClient) => {
    const fresh = (c.vips ?? []).filter((v) => !vips.has(v));
    const indexes = (c.vips ?? []).map((v) => vips.get(v) ?? vips.size + fresh.indexOf(v)).join(',');
    return { fresh, token: c.vips?.length ? indexes : '*', bytes: clientToken(c).length + 1 + (c.vips?.length ? indexes.length : 1) + 1 + fresh.reduce((n, v) => n + v.length + 1, 0) };
  };
  for (const c0 of list) {
    let c = c0;
    let k = cost(c);
    if (bytes + k.bytes > budget || clients.length >= MAX_PEER_CLIENTS) {
      close();
      k = cost(c);
    }
    if (k.bytes > budget) {
      c = { ip: c.ip, ...(c.mac ? { mac: c.mac } : {}) };
      k = cost(c);
    }
    for (const v of k.fresh) vips.set(v, vips.size);
    clients.push(clientToken(c));
    pairs.push(k.token);
    bytes += k.bytes;
  }
  close();
  return parts;
}

/** A peer's message back into clients with their VIPs; malformed entries are skipped and counted, never thrown. */
export function parsePeerBook(clientsText: string, vipsText?: string, pairsText?: string): { clients: PairedClient[]; bad: number } {
  const vips = (vipsText ?? '').split(/\s+/).filter(Boolean);
  const pairs = (pairsText ?? '').split(/\s+/).filter(Boolean);
  const tokens = String(clientsText).split(/[;\s]+/).filter(Boolean);
  const clients: PairedClient[] = [];
  let bad = 0;
  tokens.forEach((part, i) => {
    const c = parseClientToken(part);
    if (c === 'bad') return void bad++;
    if (c.badMac) bad++;
    const idx = pairs[i] && pairs[i] !== '*' ? pairs[i]!.split(',').map((x) => vips[Number(x)]) : [];
    if (idx.some((v) => v === undefined)) bad++;
    const used = idx.filter((v): v is string => v !== undefined && (isIpv4(v) || isIPv6(v)));
    clients.push({ ip: c.ip, ...(c.mac ? { mac: c.mac } : {}), ...(used.length ? { vips: used } : {}) });
  });
  return { clients, bad };
}

/**
 * Encode a client list for the peer message (the `clients` field of `t=hadiag-clients`): `ip@mac ip@mac`
 * (an entry without a MAC is just the ip), at most `max` clients. `sep` ';' is the older form.
 */
export function encodeClientList(list: Client[], max = MAX_PEER_CLIENTS, sep = ' '): string {
  return list.slice(0, max).map(clientToken).join(sep);
}

export function decodeClientList(text: string): Client[] {
  return parseClientList(text).clients;
}

/** Decode a peer's list (space or ';' separated); malformed entries are skipped and counted, never thrown. */
export function parseClientList(text: string, max = MAX_PEER_CLIENTS): { clients: Client[]; bad: number } {
  const clients: Client[] = [];
  let bad = 0;
  for (const part of String(text).split(/[;\s]+/)) {
    if (!part) continue;
    const c = parseClientToken(part);
    if (c === 'bad') {
      bad++;
      continue;
    }
    if (c.badMac) bad++;
    if (clients.length < max) clients.push({ ip: c.ip, ...(c.mac ? { mac: c.mac } : {}) });
  }
  return { clients, bad };
}

function parseClientToken(part: string): { ip: string; mac?: string; badMac?: true } | 'bad' {
  const [ip, mac, ...rest] = part.split('@');
  if (!ip || !(isIpv4(ip) || isIPv6(ip)) || rest.length) return 'bad';
  const m = mac ? normMac(mac) : undefined;
  return { ip, ...(m ? { mac: m } : {}), ...(mac && !m ? { badMac: true as const } : {}) };
}

function isIpv4(ip: string): boolean {
  const parts = ip.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}
