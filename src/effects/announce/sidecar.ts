/**
 * `hadiag announce`: the announcement fix next to any HA manager. It watches this host's addresses
 * (address-watch.ts), and the moment a watched VIP is added on its interface announces it through run-node's
 * announcer (node-announcer.ts: handles opened at start-up, clients learned all the time, the same
 * fallback), and cancels the announcement the moment the address is removed. Self-capture (the announcer's
 * confirming handle) times the first frame on the wire from the address event. With peers, it exchanges
 * its client book over UDP signed with an authkeys key (sidecar-peers.ts). A control socket answers
 * `hadiag announce status`. Logs as run-node does (NodeLog: text on stderr or JSON lines on stdout).
 *
 * An IPv6 VIP (`--vip 2001:db8::20`) is announced with neighbour discovery by the same announcer (the
 * strategy resolved for IPv6: `default` is na+directed+answer-probes). `ip monitor address` reports an IPv6
 * address added with DAD twice (tentative, then usable): it is announced once usable, never while tentative
 * (its NAs would be answers for an address it does not own yet) and never dadfailed (another host holds it).
 */
import type net from 'node:net';
import { mkdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { nowMs } from '../../core/clock.js';
import { envError } from '../../core/errors.js';
import { parseStrategy } from '../../models/strategy/language.js';
import type { Authkeys } from '../../models/config/authkeys.js';
import { createAnnouncer } from './node-announcer.js';
import type { AnnounceReport, Announcer } from './garp-announcer.js';
import { AddressWatch, presentIpv4, type ReceivedAddressEvent } from '../io/address-watch.js';
import { listIpv6 } from '../node/resources.js';
import { PeerExchange, DEFAULT_PEER_PORT, type PeerState } from './sidecar-peers.js';
import { claimControlSocket, controlPath, serveControl } from '../node/control.js';
import { NodeLog, type Level } from '../node/log.js';

export const DEFAULT_ANNOUNCE_STATE_DIR = '/run/hadiag-announce';
export { DEFAULT_PEER_PORT };
/** takeovers kept for status (latency figures) */
const KEEP_TAKEOVERS = 50;

export interface SidecarOptions {
  iface: string;
  vips: string[];
  /** strategy specs (default run-node's `directed`) */
  garp: string[];
  stateDir: string;
  json: boolean;
  node?: string;
  peers: string[];
  authkeys?: Authkeys;
  port: number;
}

export interface Takeover {
  vip: string;
  /** epoch ms of the address event (ip monitor's stamp) */
  addedMs: number;
  /** ms from ip's stamp to this process reading the event */
  eventDelayMs: number;
  /** ms from the address event to the first own frame seen on the wire */
  firstSeenMs?: number;
  firstSentMs?: number;
  planned?: number;
  sent?: number;
  seen?: number;
  /** the address was removed before the plan ended: ms after it was added */
  removedAfterMs?: number;
  done: boolean;
}

/** The addresses `iface` holds now and can use: IPv4, and IPv6 neither tentative nor dadfailed. */
export async function presentAddrs(iface: string): Promise<Set<string>> {
  const here = await presentIpv4(iface);
  for (const a of await listIpv6(iface)) if (!a.tentative && !a.dadfailed) here.add(a.local);
  return here;
}

export class Sidecar {
  private readonly log: NodeLog;
  private readonly announcers: Announcer[] = [];
  private watch?: AddressWatch;
  private peersX?: PeerExchange;
  private control?: net.Server;
  private readonly held = new Set<string>();
  /** this host's own addresses on the interface (a peer's book lists them) */
  private readonly ownIps = new Set<string>();
  readonly takeovers: Takeover[] = [];
  private readonly current = new Map<string, Takeover>();
  private readonly finals = new Map<string, (r: AnnounceReport) => void>();
  readonly node: string;
  private closed = false;

  constructor(private readonly o: SidecarOptions) {
    this.node = o.node ?? hostname();
    this.log = new NodeLog({ node: this.node, json: o.json, debug: false });
  }

  emit(level: Level, event: string, text: string, data?: Record<string, unknown>): void {
    this.log.write({ tsMs: nowMs(), level, event, text, ...(data ? { data } : {}) });
  }

  /** Open everything a takeover needs; `control` false for --once (no socket). */
  async start(control: boolean): Promise<void> {
    const o = this.o;
    const strategies = (o.garp.length ? o.garp : ['default']).map((s) => parseStrategy(s, '--garp'));
    if (control) {
      await mkdir(o.stateDir, { recursive: true });
      await claimControlSocket(o.stateDir);
    }
    // a missing interface is an environment error before any handle is opened
    for (const ip of await presentAddrs(o.iface)) if (!o.vips.includes(ip)) this.ownIps.add(ip);
    for (const s of strategies) {
      this.announcers.push(
        createAnnouncer(s, [o.iface], {
          confirm: true,
          pcap: false,
          captureDir: o.stateDir,
          node: this.node,
          vips: o.vips,
          onReport: (r, final) => this.onReport(r, final),
          log: (level, event, text, data) => this.emit(level, event, text, data),
        }),
      );
    }
    this.watch = new AddressWatch({
      onEvent: (e) => this.onAddress(e),
      onRestart: (detail) => {
        this.emit('warn', 'address-watch', `${detail}: started again, reconciling`);
        void this.reconcile('restart');
      },
    });
    await this.watch.start();
    if (o.peers.length) {
      if (!o.authkeys) throw envError('--peer needs --authkeys', 'command line', 'give the authkeys file both sidecars share (Heartbeat format: auth N / N sha1 KEY)');
      this.peersX = new PeerExchange({
        node: this.node,
        port: o.port,
        peers: o.peers,
        sendKey: o.authkeys.active,
        keys: o.authkeys.keys,
        ownClients: () => this.learnedClients(),
        onClients: (p, list) => this.onPeerClients(p, list),
        onReject: (p, detail) => this.emit('warn', 'peer-rejected', `datagram from ${p.ip} rejected: ${detail}`, { from: p.ip, detail, rejected: p.rejected }),
      });
      await this.peersX.open();
    }
    await Promise.all(this.announcers.map((a) => a.ready));
    if (control) this.control = await serveControl(o.stateDir, (cmd) => this.answer(cmd));
    this.emit('info', 'start', `watching ${o.vips.join(', ')} on ${o.iface}, announcing with ${strategies.map((s) => s.spec).join(' + ')}${o.peers.length ? `, client book shared with ${o.peers.join(', ')} on udp/${o.port}` : ''}`, {
      iface: o.iface,
      vips: o.vips,
      garp: strategies.map((s) => s.spec),
      peers: o.peers,
      port: o.port,
      monitorPid: this.watch.pid,
    });
  }

  /** VIPs the interface holds now, announced if this sidecar had not seen them added (start-up, monitor restart). */
  async reconcile(why: 'start' | 'restart'): Promise<string[]> {
    const now = await presentAddrs(this.o.iface);
    for (const ip of now) if (!this.o.vips.includes(ip)) this.ownIps.add(ip);
    for (const vip of this.o.vips) {
      if (now.has(vip) && !this.held.has(vip)) {
        this.emit('info', 'address-present', `${vip} is on ${this.o.iface} already (${why}): announcing it`, { vip });
        const t = nowMs();
        this.takeover(vip, t, t, false);
      } else if (!now.has(vip) && this.held.has(vip)) this.release(vip, nowMs());
    }
    return this.o.vips.filter((v) => now.has(v));
  }

  private onAddress(e: ReceivedAddressEvent): void {
    if (this.closed || e.iface !== this.o.iface || !this.o.vips.includes(e.ip)) return;
    const stamp = e.stampMs ?? e.receivedMs;
    if (e.kind === 'deleted') this.release(e.ip, stamp);
    else if (e.family === 'inet6') void this.added6(e.ip, stamp, e.receivedMs);
    else this.takeover(e.ip, stamp, e.receivedMs);
  }

  /** An IPv6 VIP's address event: announced once it is usable (one more event follows a tentative one). */
  private async added6(vip: string, stamp: number, receivedMs: number): Promise<void> {
    const copy = (await listIpv6(this.o.iface)).find((a) => a.local === vip);
    if (this.closed || !copy) return;
    if (copy.dadfailed) {
      this.emit('error', 'address-dadfailed', `${vip} on ${this.o.iface} failed DAD: another host answers for it (split brain?); not announcing it`, { vip });
      return;
    }
    if (copy.tentative) {
      this.emit('warn', 'address-tentative', `${vip} added on ${this.o.iface} with DAD (tentative): announcing it once DAD is over; add it with nodad to announce at once`, { vip });
      return;
    }
    if (this.held.has(vip) && this.current.get(vip)?.addedMs === stamp) return;
    this.takeover(vip, stamp, receivedMs);
  }

  /** `event`: false when found present (start-up, monitor restart), already logged as address-present */
  private takeover(vip: string, addedMs: number, receivedMs: number, event = true): void {
    this.held.add(vip);
    for (const a of this.announcers) a.announce(vip, this.o.iface, addedMs);
    const t: Takeover = { vip, addedMs, eventDelayMs: round(receivedMs - addedMs), done: false };
    this.current.set(vip, t);
    this.takeovers.push(t);
    if (this.takeovers.length > KEEP_TAKEOVERS) this.takeovers.shift();
    if (event) this.emit('info', 'address-added', `${vip} added on ${this.o.iface}: announcing (event read ${t.eventDelayMs} ms after ip's stamp)`, { vip, addedMs, eventDelayMs: t.eventDelayMs });
  }

  private release(vip: string, removedMs: number): void {
    if (!this.held.delete(vip)) return;
    for (const a of this.announcers) a.cancel(vip);
    const t = this.current.get(vip);
    this.current.delete(vip);
    if (t && !t.done) {
      t.removedAfterMs = round(removedMs - t.addedMs);
      t.done = true;
    }
    this.emit('info', 'address-removed', `${vip} removed from ${this.o.iface}: announcements stopped`, { vip, ...(t?.removedAfterMs !== undefined ? { removedAfterMs: t.removedAfterMs } : {}) });
    this.finals.get(vip)?.({ vip, iface: this.o.iface, planned: t?.planned ?? 0, sent: t?.sent ?? 0, seen: t?.seen ?? 0 });
  }

  private onReport(r: AnnounceReport, final: boolean): void {
    const t = this.current.get(r.vip);
    if (t) {
      if (r.firstSeenMs !== undefined && t.firstSeenMs === undefined) t.firstSeenMs = round(r.firstSeenMs);
      if (r.firstSentMs !== undefined && t.firstSentMs === undefined) t.firstSentMs = round(r.firstSentMs);
      t.planned = r.planned;
      t.sent = r.sent;
      t.seen = r.seen;
      if (final) t.done = true;
    }
    if (!final) {
      this.emit('info', 'garp-seen', `first frame for ${r.vip} seen on ${r.iface} ${r.firstSeenMs?.toFixed(2)} ms after the address was added`, { vip: r.vip, iface: r.iface, firstSeenMs: r.firstSeenMs, firstSentMs: r.firstSentMs });
      return;
    }
    const confirmed = (r.seen ?? 0) > 0;
    this.emit(confirmed && r.seen === r.planned ? 'info' : 'warn', 'garp', `${r.vip} on ${r.iface}: ${r.sent}/${r.planned} frames sent, ${r.seen ?? 0} seen on the wire`, { ...r });
    this.finals.get(r.vip)?.(r);
  }

  /** Wait for the current announcement of `vip` to end (plan over, or the address removed). */
  finished(vip: string): Promise<AnnounceReport> {
    return new Promise((res) => this.finals.set(vip, res));
  }

  private learnedClients() {
    const seen = new Map<string, { ip: string; mac?: string }>();
    for (const a of this.announcers) for (const c of a.learnedClients?.() ?? []) seen.set(c.ip, c);
    return [...seen.values()];
  }

  private knownClients() {
    const seen = new Map<string, { ip: string; mac?: string; source: string }>();
    for (const a of this.announcers) for (const c of a.knownClients?.() ?? []) if (!seen.has(c.ip)) seen.set(c.ip, c);
    return [...seen.values()];
  }

  private onPeerClients(p: PeerState, given: { ip: string; mac?: string }[]): void {
    // a peer learns this host as one of its clients: never a client of ours
    const list = given.filter((c) => !this.ownIps.has(c.ip));
    if (!list.length) return;
    const before = new Set(this.knownClients().map((c) => c.ip));
    for (const a of this.announcers) a.addPeerClients?.(list);
    const fresh = list.filter((c) => !before.has(c.ip));
    if (fresh.length) this.emit('info', 'peer-clients', `${fresh.length} client(s) learned from ${p.name ?? p.ip}: ${fresh.map((c) => c.ip).join(' ')}`, { peer: p.name, from: p.ip, clients: fresh.map((c) => c.ip) });
  }

  status(): Record<string, unknown> {
    const lat = this.takeovers.map((t) => t.firstSeenMs).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    return {
      node: this.node,
      pid: process.pid,
      iface: this.o.iface,
      vips: this.o.vips.map((vip) => ({ vip, held: this.held.has(vip) })),
      clients: this.knownClients(),
      takeovers: this.takeovers.length,
      lastTakeover: this.takeovers[this.takeovers.length - 1],
      latencyMs: lat.length ? { count: lat.length, median: lat[Math.floor((lat.length - 1) / 2)], max: lat[lat.length - 1] } : undefined,
      peers: [...(this.peersX?.peers.values() ?? [])],
      port: this.peersX ? this.o.port : undefined,
      rssBytes: process.memoryUsage().rss,
    };
  }

  private answer(cmd: string): unknown {
    if (cmd === 'status') return { ok: true, status: this.status() };
    return { ok: false, error: `unknown command ${cmd} (status)` };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const watchClosed = this.watch?.close();
    for (const vip of [...this.held]) for (const a of this.announcers) a.cancel(vip);
    for (const a of this.announcers) a.close();
    this.peersX?.close();
    await watchClosed;
    if (this.control) {
      await new Promise<void>((res) => this.control!.close(() => res()));
      await rm(controlPath(this.o.stateDir), { force: true });
    }
    this.emit('info', 'exit', 'stopped');
    await this.log.close();
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
