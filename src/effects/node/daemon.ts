/**
 * The node daemon: wires the state machine (machine.ts) to UDP sockets (every medium of ha.cf), one timer,
 * the wire codec with the authkeys key, `ip` for IP resources, resource scripts, the GARP announcer and a
 * control socket. Keeps CLI-only libraries out of its import path.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { hostname, setPriority } from 'node:os';
import { mkdir, readFile, writeFile, rm } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { configError, envError, HadiagError } from '../../core/errors.js';
import { loadConfigDir } from '../config/load.js';
import type { Medium } from '../../models/config/hacf.js';
import type { Resource, ResourceGroup } from '../../models/config/haresources.js';
import type { AuthKey } from '../../models/config/authkeys.js';
import { decodeMessage, encodeMessage, verifyDecoded } from '../../codecs/heartbeat/codec.js';
import { NodeMachine, type Action, type MachineEvent } from '../../models/node/machine.js';
import { NodeLog, type Level } from './log.js';
import { addVip, delVip, groupLabel, listIpv4, planVip, runScript, scriptPath, VipLedger, type VipPlan } from './resources.js';
import { type Announcer, type AnnounceReport } from '../announce/garp-announcer.js';
// compare-garp: every strategy form (directed, unicast-reply, answer-probes, vmac, arping, send_arp) and client learning
import { createAnnouncer } from '../announce/node-announcer.js';
import { encodeClientList } from '../../models/strategy/client-book.js';
import { parseStrategy } from '../../models/strategy/language.js';
import { runCleanups } from '../io/cleanup.js';
import { nowMs } from '../../core/clock.js';
import type { NodeOptions } from './options.js';

export const CONTROL_SOCKET = 'control.sock';

export interface DaemonCounters {
  datagrams: number;
  authFailures: number;
  malformed: number;
  innerAuthMismatch: number;
  logsSuppressed: number;
  sendErrors: number;
  garpsSent: number;
}

interface Link {
  medium: Medium;
  socket: dgram.Socket;
  dest: string;
  port: number;
  label: string;
}


/** The generation (hg) for this start: above the last one, and time-based like Heartbeat's. */
async function nextGeneration(stateDir: string): Promise<number> {
  const file = join(stateDir, 'generation');
  let prev = 0;
  try {
    prev = parseInt((await readFile(file, 'utf8')).trim(), 10) || 0;
  } catch {
    /* first start */
  }
  const gen = Math.max(prev + 1, Math.floor(Date.now() / 1000));
  await writeFile(file, `${gen}\n`);
  return gen;
}

async function nodeUuid(stateDir: string): Promise<Buffer> {
  const file = join(stateDir, 'uuid');
  try {
    const b = Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
    if (b.length === 16) return b;
  } catch {
    /* new */
  }
  const b = randomBytes(16);
  await writeFile(file, b.toString('hex') + '\n');
  return b;
}

function loadavg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return '0.00 0.00 0.00 1/1 1';
  }
}

/** nice value of the node (Heartbeat runs at realtime priority: timers and announcements must not wait) */
export const NODE_PRIORITY = -10;

export class NodeDaemon {
  private machine!: NodeMachine;
  private log!: NodeLog;
  private links: Link[] = [];
  private rx?: dgram.Socket;
  private timer?: NodeJS.Timeout;
  private controlServer?: net.Server;
  private key!: AuthKey;
  private keys!: Map<number, AuthKey>;
  private groups: ResourceGroup[] = [];
  private ledger!: VipLedger;
  private announcer?: Announcer;
  private readonly heldVips = new Map<number, VipPlan[]>(); // group -> addresses we added
  private readonly vipPlans = new Map<Resource, VipPlan>(); // resolved at start-up (findif)
  private queue: Promise<void> = Promise.resolve();
  private exiting = false;
  private finished!: Promise<number>;
  private finish!: (code: number) => void;
  private readonly counters: DaemonCounters = { datagrams: 0, authFailures: 0, malformed: 0, innerAuthMismatch: 0, logsSuppressed: 0, sendErrors: 0, garpsSent: 0 };
  private readonly lastLog = new Map<string, number>();
  private readonly garpReports: AnnounceReport[] = [];
  private localAddrs = new Set<string>();
  nodeName = '';

  constructor(private readonly opts: NodeOptions) {
    this.finished = new Promise((r) => (this.finish = r));
  }

  /** Start everything; resolves with the exit code once the node has stopped. */
  async run(): Promise<number> {
    await this.setup();
    return this.finished;
  }

  private async setup(): Promise<void> {
    const o = this.opts;
    const cfg = await loadConfigDir(o.configDir, { checkMode: o.checkMode ?? true });
    const hacf = cfg.hacf;
    const name = (o.node ?? hostname()).toLowerCase();
    if (!hacf.nodes.includes(name)) {
      throw configError(`this node "${name}" is not a node of ha.cf`, join(o.configDir, 'ha.cf'), `add "node ${name}" or run with --node ${hacf.nodes.join('|')} (Heartbeat uses uname -n)`);
    }
    if (hacf.nodes.length > 2) process.stderr.write(`hadiag: warning: ${hacf.nodes.length} nodes: haresources failover is a two-node protocol in Heartbeat\n`);
    this.nodeName = name;
    this.key = cfg.authkeys.active;
    this.keys = cfg.authkeys.keys;
    this.groups = cfg.haresources;
    this.log = new NodeLog({ node: name, json: o.json, debug: !!o.debug, logfile: hacf.logfile && !hacf.logfile.startsWith('/dev/') ? hacf.logfile : undefined, logfacility: hacf.logfacility });
    for (const d of cfg.diagnostics) this.emit('warn', 'config', `${d.file}${d.line ? ':' + d.line : ''}: ${d.message}${d.fix ? ' — ' + d.fix : ''}`);

    await mkdir(o.stateDir, { recursive: true, mode: 0o700 });
    try {
      setPriority(NODE_PRIORITY); // Heartbeat runs at realtime priority: timers must fire on time under load
    } catch {
      /* not permitted: normal priority */
    }
    await this.claimControlSocket();
    const strategy = parseStrategy(o.garp, '--garp');

    // interfaces and addresses
    const addrs = await listIpv4();
    this.localAddrs = new Set(addrs.map((a) => a.local));
    const vipIfaces: string[] = [];
    for (const g of this.groups) {
      for (const r of g.resources) {
        if (r.kind !== 'ip') continue;
        const plan = planVip(r, addrs);
        this.vipPlans.set(r, plan);
        vipIfaces.push(plan.iface);
      }
    }

    // leftovers of a crashed run
    this.ledger = new VipLedger(o.stateDir);
    for (const p of await this.ledger.load()) {
      const r = await delVip(p);
      this.emit(r.ok ? 'warn' : 'error', 'stale-vip', `removing ${p.ip}/${p.prefixLen} on ${p.iface} left by an earlier run: ${r.detail}`);
      if (r.ok) this.ledger.remove(p);
    }
    for (const g of this.groups) {
      for (const r of g.resources) {
        if (r.kind === 'ip' && this.localAddrs.has(r.ip)) {
          this.emit('warn', 'vip-present', `${r.ip} is already configured on this host (not by hadiag): another holder may exist; hadiag will not remove it`);
        }
      }
    }

    // sockets
    await this.openSockets(hacf.media, hacf.udpport, addrs);
    // the announcer (every strategy form, src/announce): its capture handles are open before any takeover
    this.announcer = createAnnouncer(strategy, [...new Set(vipIfaces)], {
      confirm: o.capture,
      captureDir: o.captureDir ?? (process.cwd() === '/' ? join(o.stateDir, 'captures') : resolve('captures')),
      node: name,
      vips: [...this.vipPlans.values()].map((p) => p.ip),
      onReport: (r, final) => this.onGarpReport(r, final),
      log: (level, event, text, data) => this.emit(level, event, text, data),
    });
    this.watchLearnedClients();

    const generation = await nextGeneration(o.stateDir);
    const uuid = await nodeUuid(o.stateDir);
    const now = nowMs();
    this.machine = new NodeMachine(
      {
        node: name,
        nodes: hacf.nodes,
        keepaliveMs: hacf.keepaliveMs,
        deadtimeMs: hacf.deadtimeMs,
        warntimeMs: hacf.warntimeMs,
        initdeadMs: hacf.initdeadMs,
        // Heartbeat waits RQSTDELAY (10 s) when both nodes start at once; with fast timers, less
        rqstDelayMs: Math.min(10_000, Math.max(hacf.initdeadMs, 2 * hacf.deadtimeMs)),
        autoFailback: hacf.autoFailback,
        groups: this.groups.map((g) => ({ node: g.node, label: groupLabel(g), key: g.resources[0]?.raw, ips: g.resources.filter((r) => r.kind === 'ip').map((r) => r.raw) })),
        generation,
        uuid,
        load: loadavg,
      },
      { now },
    );
    this.installSignals();
    await this.startControl();
    this.emit('info', 'config', `keepalive ${hacf.keepaliveMs} ms, deadtime ${hacf.deadtimeMs} ms, warntime ${hacf.warntimeMs} ms, initdead ${hacf.initdeadMs} ms, media: ${this.links.map((l) => l.label).join(', ')}, garp ${o.garp}${o.capture ? ' (confirmed by capture)' : ''}`);
    this.apply(this.machine.start(now));
  }

  // ------------------------------------------------------------------ sockets

  private async openSockets(media: Medium[], port: number, addrs: Awaited<ReturnType<typeof listIpv4>>): Promise<void> {
    if (!media.length) throw configError('no heartbeat medium', join(this.opts.configDir, 'ha.cf'), 'add a bcast, mcast or ucast line');
    const rx = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((res, rej) => {
      rx.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE') rej(envError(`UDP port ${port} is in use`, `0.0.0.0:${port}`, 'stop the other heartbeat/hadiag node on this host (ss -ulpn shows it)'));
        else if (err.code === 'EACCES') rej(envError(`cannot bind UDP port ${port}`, `0.0.0.0:${port}`, 'run as root'));
        else rej(err);
      });
      rx.bind(port, '0.0.0.0', () => res());
    });
    rx.removeAllListeners('error');
    rx.on('error', (err) => this.emit('error', 'socket', `receive socket: ${err.message}`));
    rx.on('message', (buf, rinfo) => this.onDatagram(buf, rinfo));
    this.rx = rx;
    for (const m of media) {
      const ifAddrs = addrs.filter((a) => a.iface === m.iface);
      if (!ifAddrs.length) throw envError(`interface ${m.iface} of ha.cf has no IPv4 address (or does not exist)`, `ha.cf:${m.line}`, `check \`ip addr show ${m.iface}\``);
      const sock = dgram.createSocket({ type: 'udp4' });
      await new Promise<void>((res) => sock.bind(0, () => res()));
      sock.on('error', (err) => this.emit('error', 'socket', `${m.kind} ${m.iface}: ${err.message}`));
      if (m.kind === 'bcast') {
        const brd = ifAddrs.find((a) => a.broadcast)?.broadcast;
        if (!brd) {
          sock.close();
          throw envError(`interface ${m.iface} has no broadcast address`, `ha.cf:${m.line} bcast ${m.iface}`, `give it one (ip addr add ADDR/PREFIX brd + dev ${m.iface}) or use ucast/mcast — the real Heartbeat would send to 0.0.0.0 and split the brain`);
        }
        sock.setBroadcast(true);
        this.links.push({ medium: m, socket: sock, dest: brd, port: m.port, label: `bcast ${m.iface} -> ${brd}:${m.port}` });
      } else if (m.kind === 'mcast') {
        const local = ifAddrs[0]!.local;
        sock.setMulticastInterface(local);
        sock.setMulticastTTL(m.ttl);
        sock.setMulticastLoopback(m.loop);
        try {
          rx.addMembership(m.group, local);
        } catch (err) {
          throw envError(`cannot join multicast group ${m.group} on ${m.iface}`, `ha.cf:${m.line}: ${(err as Error).message}`, 'check the interface and group');
        }
        this.links.push({ medium: m, socket: sock, dest: m.group, port: m.port, label: `mcast ${m.iface} -> ${m.group}:${m.port}` });
      } else {
        if (this.localAddrs.has(m.peer)) {
          sock.close();
          continue; // a node ignores the ucast line naming itself
        }
        this.links.push({ medium: m, socket: sock, dest: m.peer, port: m.port, label: `ucast ${m.iface} -> ${m.peer}:${m.port}` });
      }
    }
    if (!this.links.length) throw configError('no usable heartbeat medium', join(this.opts.configDir, 'ha.cf'), 'the only ucast lines name this host: add one naming the peer');
  }

  private onDatagram(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    try {
      this.counters.datagrams++;
      if (this.localAddrs.has(rinfo.address) && this.isOwnSource(rinfo)) return;
      const d = decodeMessage(buf);
      if (!d.ok) {
        this.counters.malformed++;
        this.rateEmit('warn', 'malformed', `malformed datagram from ${rinfo.address}:${rinfo.port} (${d.code}: ${d.reason})`);
        return;
      }
      const v = verifyDecoded(buf, d, this.keys);
      if (!v.accepted) {
        this.counters.authFailures++;
        this.rateEmit('warn', 'auth-failed', `authentication failed for a message from ${rinfo.address}:${rinfo.port} (trailing token ${v.trailing}, auth field ${v.inner})`);
        return;
      }
      if (d.encoding === 'netstring' && v.inner !== 'ok') {
        this.counters.innerAuthMismatch++;
        this.rateEmit('debug', 'inner-auth', `message from ${rinfo.address}: trailing token ok, auth field ${v.inner}`);
      }
      this.handle({ type: 'message', msg: d.msg, from: { ip: rinfo.address, port: rinfo.port } });
    } catch (err) {
      this.counters.malformed++;
      this.rateEmit('error', 'packet-error', `error handling a datagram from ${rinfo.address}: ${(err as Error).message}`);
    }
  }

  /** Our own transmissions come back on the receive socket (bcast, mcast loop): skip them cheaply. */
  private isOwnSource(rinfo: dgram.RemoteInfo): boolean {
    return this.links.some((l) => {
      try {
        return l.socket.address().port === rinfo.port;
      } catch {
        return false;
      }
    });
  }

  private sendAll(buf: Buffer): void {
    for (const l of this.links) {
      l.socket.send(buf, l.port, l.dest, (err) => {
        if (err) {
          this.counters.sendErrors++;
          this.rateEmit('warn', 'send-failed', `${l.label}: ${err.message}`);
        }
      });
    }
  }

  // ------------------------------------------------------------------ the machine

  private handle(ev: MachineEvent): void {
    if (!this.machine) return;
    this.apply(this.machine.handle(ev, nowMs()));
  }

  private apply(actions: Action[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          this.sendAll(encodeMessage(a.msg, this.key));
          break;
        case 'log':
          this.emit(a.level, a.event, a.text, a.data);
          break;
        case 'acquire':
        case 'release':
          this.enqueue(a);
          break;
        case 'announce':
          this.reannounce(a.group);
          break;
        case 'peer-clients': {
          this.announcer?.addPeerClients?.(a.clients);
          // a new list is news (these clients get directed announcements at takeover); its repeats every 5 s are not
          const text = encodeClientList(a.clients);
          const changed = this.peerClientLists.get(a.node) !== text;
          this.peerClientLists.set(a.node, text);
          this.emit(changed ? 'info' : 'debug', 'peer-clients', `${a.clients.length} client(s) learned from ${a.node}`, { peer: a.node, clients: a.clients.map((c) => c.ip) });
          break;
        }
        case 'exit':
          void this.stop(a.code);
          break;
      }
    }
    this.arm();
  }

  private arm(): void {
    if (this.stopped || !this.machine) return;
    if (this.timer) clearTimeout(this.timer);
    const delay = Math.max(0, this.machine.nextWakeMs() - nowMs());
    this.timer = setTimeout(() => this.handle({ type: 'tick' }), Math.min(delay, 60_000));
  }

  // ------------------------------------------------------------------ resources

  private enqueue(a: Extract<Action, { type: 'acquire' | 'release' }>): void {
    this.queue = this.queue.then(async () => {
      const t0 = nowMs();
      let ok = true;
      const details: string[] = [];
      try {
        if (a.type === 'acquire') ok = await this.acquireGroup(a.group, details);
        else ok = await this.releaseGroup(a.group, details);
      } catch (err) {
        ok = false;
        details.push((err as Error).message);
      }
      this.handle({ type: 'resource-done', job: a.job, group: a.group, op: a.type, ok, durationMs: nowMs() - t0, detail: details.join('; ') });
    });
  }

  private async acquireGroup(gi: number, details: string[]): Promise<boolean> {
    const g = this.groups[gi]!;
    const added: VipPlan[] = this.heldVips.get(gi) ?? [];
    this.heldVips.set(gi, added);
    for (const r of g.resources) {
      const t0 = nowMs();
      if (r.kind === 'ip') {
        const plan = this.vipPlans.get(r) ?? planVip(r, await listIpv4());
        this.ledger.add(plan); // intent first: a crash right after `ip addr add` is cleaned up next start
        const res = await addVip(plan);
        const addedAt = nowMs();
        if (res.ok) {
          this.reannounced.delete(plan.ip);
          this.announcer?.announce(plan.ip, plan.iface, addedAt);
        }
        if (!res.ok || res.existed) this.ledger.remove(plan);
        if (!res.ok) {
          details.push(`${r.raw}: ${res.detail}`);
          this.emit('error', 'resource', `start ${r.raw}: FAILED (${res.detail})`);
          return false;
        }
        if (!res.existed) added.push(plan);
        this.emit('info', 'resource', `start ${r.raw}: ${res.detail} (${(addedAt - t0).toFixed(1)} ms)`, { resource: r.raw, op: 'start', durationMs: addedAt - t0, ip: plan.ip, iface: plan.iface });
      } else {
        const ok = await this.runScriptResource(r, 'start');
        if (!ok) {
          details.push(`${r.raw} start failed`);
          return false;
        }
      }
    }
    return true;
  }

  /** VIPs whose current announcement is a re-announcement (its times count from the heal, not the add) */
  private readonly reannounced = new Set<string>();

  private reannounce(gi: number): void {
    for (const p of this.heldVips.get(gi) ?? []) {
      this.reannounced.add(p.ip);
      this.announcer?.announce(p.ip, p.iface, nowMs());
      this.emit('info', 'reannounce', `announcing ${p.ip} on ${p.iface} again (partition healed)`);
    }
  }

  private async releaseGroup(gi: number, details: string[]): Promise<boolean> {
    const g = this.groups[gi]!;
    let ok = true;
    const added = this.heldVips.get(gi) ?? [];
    for (const r of [...g.resources].reverse()) {
      const t0 = nowMs();
      if (r.kind === 'ip') {
        const plan = added.find((p) => p.ip === r.ip);
        this.announcer?.cancel(r.ip);
        if (!plan) continue; // not added by us: leave it alone
        const res = await delVip(plan);
        if (res.ok) {
          this.ledger.remove(plan);
          added.splice(added.indexOf(plan), 1);
        } else {
          ok = false;
          details.push(`${r.raw}: ${res.detail}`);
        }
        this.emit(res.ok ? 'info' : 'error', 'resource', `stop ${r.raw}: ${res.detail} (${(nowMs() - t0).toFixed(1)} ms)`, { resource: r.raw, op: 'stop', durationMs: nowMs() - t0 });
      } else if (!(await this.runScriptResource(r, 'stop'))) {
        ok = false;
        details.push(`${r.raw} stop failed`);
      }
    }
    return ok;
  }

  private async runScriptResource(r: Extract<Resource, { kind: 'script' }>, op: 'start' | 'stop'): Promise<boolean> {
    const t0 = nowMs();
    let path: string;
    try {
      path = await scriptPath(this.opts.configDir, r.name);
    } catch (err) {
      this.emit('error', 'resource', `${op} ${r.raw}: ${(err as HadiagError).message}`);
      return false;
    }
    const res = await runScript(path, r.args, op);
    const ms = nowMs() - t0;
    this.emit(res.code === 0 ? 'info' : 'error', 'resource', `${op} ${r.raw}: ${path} ${[...r.args, op].join(' ')} exited ${res.code} (${ms.toFixed(1)} ms)${res.out ? `: ${res.out}` : ''}`, { resource: r.raw, op, code: res.code, durationMs: ms });
    return res.code === 0;
  }

  private onGarpReport(r: AnnounceReport, final: boolean): void {
    const since = this.reannounced.has(r.vip) ? 'the heal asked for it again' : 'the address was added';
    if (!final) {
      this.emit('info', 'garp-seen', `GARP for ${r.vip} seen on ${r.iface}, first ${r.firstSeenMs?.toFixed(1)} ms after ${since}`, { ...r });
      return;
    }
    this.reannounced.delete(r.vip);
    this.counters.garpsSent += r.sent;
    this.garpReports.push(r);
    if (this.garpReports.length > 20) this.garpReports.shift();
    const wire = r.seen !== undefined ? `GARP ${r.seen}/${r.planned} on wire, first ${r.firstSeenMs !== undefined ? r.firstSeenMs.toFixed(1) + ' ms' : '(none)'} after ${since}${r.pcap ? ` (pcap ${r.pcap})` : ''}` : `GARP ${r.sent}/${r.planned} sent, first ${r.firstSentMs?.toFixed(1)} ms after ${since}`;
    this.emit(r.seen !== undefined && r.seen < r.planned ? 'warn' : 'info', 'garp', `${r.vip} on ${r.iface}: ${wire}`, { ...r });
  }

  // ------------------------------------------------------------------ control socket

  private get controlPath(): string {
    return join(this.opts.stateDir, CONTROL_SOCKET);
  }

  private async claimControlSocket(): Promise<void> {
    const path = this.controlPath;
    const inUse = await new Promise<boolean>((res) => {
      const c = net.connect(path);
      c.once('connect', () => {
        c.destroy();
        res(true);
      });
      c.once('error', () => res(false));
    });
    if (inUse) throw envError('a hadiag node is already running with this state directory', path, 'stop it first, or give another --state-dir');
    await rm(path, { force: true });
  }

  private async startControl(): Promise<void> {
    const server = net.createServer((conn) => {
      let buf = '';
      conn.setEncoding('utf8');
      conn.on('error', () => {});
      conn.on('data', (d: string) => {
        buf += d;
        if (buf.length > 4096) conn.destroy();
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        let reply: unknown;
        try {
          const req = JSON.parse(buf.slice(0, nl)) as { cmd?: string };
          reply = this.control(req.cmd ?? '');
        } catch (err) {
          reply = { ok: false, error: (err as Error).message };
        }
        conn.end(JSON.stringify(reply) + '\n');
      });
    });
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(this.controlPath, () => res());
    });
    this.controlServer = server;
  }

  /** Answer a control request: status | standby | takeover. */
  private control(cmd: string): unknown {
    if (cmd === 'status') return { ok: true, status: this.status() };
    if (cmd === 'standby' || cmd === 'takeover') {
      this.handle({ type: 'command', cmd });
      return { ok: true, status: this.status() };
    }
    return { ok: false, error: `unknown command "${cmd}"` };
  }

  status(): Record<string, unknown> {
    const st = this.machine.getStatus();
    return {
      ...st,
      pid: process.pid,
      media: this.links.map((l) => l.label),
      vips: [...this.heldVips.values()].flat().map((p) => `${p.ip}/${p.prefixLen} ${p.iface}${p.label ? ` (${p.label})` : ''}`),
      daemon: { ...this.counters },
      garp: this.garpReports.slice(-5),
      clients: this.announcer?.knownClients?.() ?? [],
      rssBytes: process.memoryUsage.rss(),
    };
  }

  // ------------------------------------------------------------------ stopping

  private installSignals(): void {
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      // the shared cleanup registry would exit at once; a node first hands over (shutdone)
      process.removeAllListeners(sig);
      process.on(sig, () => this.shutdown(sig));
    }
    process.on('exit', () => this.forceRelease());
  }

  /** Graceful stop: the machine releases everything, sends shutdone, then asks us to exit. */
  shutdown(why: string): void {
    if (this.exiting) {
      if (why === 'SIGINT') void this.stop(130); // a second Ctrl-C: don't wait
      return;
    }
    this.exiting = true;
    this.emit('info', 'signal', `${why}: shutting down gracefully`);
    this.handle({ type: 'command', cmd: 'shutdown' });
    setTimeout(() => void this.stop(0), Math.max(10_000, 2 * this.machine.cfg.deadtimeMs)).unref();
  }

  private clientsTimer?: NodeJS.Timeout;
  /** the last hadiag-clients list of each peer (encoded), to log only changes at info level */
  private readonly peerClientLists = new Map<string, string>();
  /** The clients the announcer learned, given to the machine every second (it tells its peers when they change). */
  private watchLearnedClients(): void {
    this.clientsTimer = setInterval(() => {
      if (this.machine) this.handle({ type: 'clients', clients: this.announcer?.learnedClients?.() ?? [] });
    }, 1000);
    this.clientsTimer.unref();
  }

  private stopped = false;
  private async stop(code: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.clientsTimer) clearInterval(this.clientsTimer);
    await this.queue.catch(() => {});
    // give the last datagrams (shutdone) a moment to leave
    await new Promise((r) => setTimeout(r, 20));
    this.forceRelease();
    this.announcer?.close();
    for (const l of this.links) l.socket.close();
    this.rx?.close();
    this.controlServer?.close();
    await rm(this.controlPath, { force: true }).catch(() => {});
    this.emit('info', 'exit', `stopped (exit ${code})`);
    await this.log.close();
    await runCleanups();
    this.finish(code);
  }

  /** Last resort: remove every address we added (synchronously, works inside process 'exit'). */
  private forceRelease(): void {
    for (const p of this.ledger?.list() ?? []) {
      spawnSync('ip', ['addr', 'del', `${p.ip}/${p.prefixLen}`, 'dev', p.iface], { stdio: 'ignore' });
    }
    try {
      if (this.ledger) writeFileSync(join(this.opts.stateDir, 'vips.json'), '[]');
    } catch {
      /* nothing */
    }
  }

  // ------------------------------------------------------------------ logging

  private emit(level: Level, event: string, text: string, data?: Record<string, unknown>): void {
    this.log?.write({ tsMs: nowMs(), level, event, text, data });
  }

  private rateEmit(level: Level, event: string, text: string): void {
    const now = nowMs();
    const last = this.lastLog.get(event);
    if (last !== undefined && now - last < 5000) {
      this.counters.logsSuppressed++;
      return;
    }
    this.lastLog.set(event, now);
    this.emit(level, event, text);
  }
}

/** Ask a running node over its control socket. */
export function controlRequest(stateDir: string, cmd: string, timeoutMs = 3000): Promise<{ ok: boolean; status?: Record<string, unknown>; error?: string }> {
  const path = join(stateDir, CONTROL_SOCKET);
  return new Promise((res, rej) => {
    const c = net.connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      c.destroy();
      rej(envError('the node did not answer', path, 'is it hung? look at its log'));
    }, timeoutMs);
    c.setEncoding('utf8');
    c.on('connect', () => c.write(JSON.stringify({ cmd }) + '\n'));
    c.on('data', (d: string) => (buf += d));
    c.on('end', () => {
      clearTimeout(timer);
      try {
        res(JSON.parse(buf));
      } catch {
        rej(envError('bad answer from the node', path, 'is it a hadiag node?'));
      }
    });
    c.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      rej(envError('no hadiag node is running here', `${path} (${err.code})`, 'start one with `hadiag run-node`, or give its --state-dir'));
    });
  });
}
