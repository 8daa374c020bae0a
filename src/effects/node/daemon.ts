/**
 * The node daemon: wires the state machine (models/node/machine.ts) to UDP sockets (every medium of ha.cf,
 * links.ts), one timer, the wire codec with the authkeys key, the resource groups (groups.ts: `ip` for IP
 * resources, resource scripts), the GARP announcer and a control socket (control.ts). Start-up is a sequence
 * of named steps (setup.ts). Keeps CLI-only libraries out of its import path.
 */
import type net from 'node:net';
import { join, resolve } from 'node:path';
import { rm } from 'node:fs/promises';
import type { AuthKey } from '../../models/config/authkeys.js';
import type { NodeMachine, Action, MachineEvent } from '../../models/node/machine.js';
// compare-garp: every strategy form (directed, unicast-reply, answer-probes, vmac, arping, send_arp) and client learning
import { createAnnouncer } from '../announce/node-announcer.js';
import { encodeClientList } from '../../models/strategy/client-book.js';
import { parseStrategy } from '../../models/strategy/language.js';
import { runCleanups } from '../io/cleanup.js';
import { nowMs } from '../../core/clock.js';
import { claimControlSocket, controlPath, serveControl } from './control.js';
import { DaemonLog, newDaemonCounters } from './daemon-log.js';
import { GroupRunner } from './groups.js';
import { HeartbeatLinks } from './links.js';
import { Pinger } from './pinger.js';
import { echoIntervalMs } from '../../models/node/ping-nodes.js';
import { RespawnClients } from './respawn.js';
import { listIpv4 } from './resources.js';
import { buildMachine, cleanStaleVips, loadNodeConfig, makeStateDir, openNodeLog, planVips, raisePriority, reportDiagnostics, warnPresentVips, type NodeConfig } from './setup.js';
import type { NodeOptions } from './options.js';

export { controlRequest, CONTROL_SOCKET } from './control.js';
export type { DaemonCounters } from './daemon-log.js';
export { NODE_PRIORITY } from './setup.js';

/** the longest the timer sleeps between machine ticks */
const MAX_TIMER_MS = 60_000;
/** how often (at most) the announcer's learned clients are handed to the machine */
const CLIENTS_EVERY_MS = 1000;

export class NodeDaemon {
  private machine?: NodeMachine;
  private links?: HeartbeatLinks;
  private groups?: GroupRunner;
  private pinger?: Pinger;
  private respawn?: RespawnClients;
  private timer?: NodeJS.Timeout;
  private timerDue = 0;
  private clientsHandedMs = -Infinity;
  private controlServer?: net.Server;
  private key!: AuthKey;
  private exiting = false;
  private stopped = false;
  private finished: Promise<number>;
  private finish!: (code: number) => void;
  private readonly counters = newDaemonCounters();
  private readonly log = new DaemonLog(this.counters);
  /** the last hadiag-clients list of each peer (encoded), to log only changes at info level */
  private readonly peerClientLists = new Map<string, string>();
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
    const { cfg, name } = await loadNodeConfig(o);
    this.nodeName = name;
    this.key = cfg.authkeys.active;
    this.log.log = openNodeLog(o, cfg, name);
    reportDiagnostics(cfg, this.log);
    await makeStateDir(o.stateDir);
    raisePriority();
    await claimControlSocket(o.stateDir);
    const strategy = parseStrategy(o.garp, '--garp');
    const addrs = await listIpv4();
    const localAddrs = new Set(addrs.map((a) => a.local));
    const vipPlans = planVips(cfg.haresources, addrs);
    const ledger = await cleanStaleVips(o.stateDir, this.log);
    warnPresentVips(cfg.haresources, localAddrs, this.log);
    this.groups = new GroupRunner({ configDir: o.configDir, stateDir: o.stateDir, groups: cfg.haresources, vipPlans, ledger }, this.counters, this.log);
    const linksSetup = { configDir: o.configDir, media: cfg.hacf.media, port: cfg.hacf.udpport, addrs, localAddrs, keys: cfg.authkeys.keys };
    this.links = await HeartbeatLinks.open(linksSetup, this.counters, this.log, (msg, from) => this.handle({ type: 'message', msg, from }));
    this.startAnnouncer(strategy, [...new Set([...vipPlans.values()].map((p) => p.iface))], [...vipPlans.values()].map((p) => p.ip), name);
    this.respawn = await RespawnClients.prepare(cfg.hacf, name, join(o.configDir, 'ha.cf'), (level, event, text, data) => this.log.emit(level, event, text, data));
    const { machine, now } = await buildMachine(cfg, name, o.stateDir);
    this.machine = machine;
    this.installSignals();
    this.controlServer = await serveControl(o.stateDir, (cmd) => this.control(cmd));
    this.logConfig(cfg);
    this.apply(machine.start(now));
    this.startPinger(cfg);
    this.respawn.start();
  }

  /** Ping nodes: one ping per host, each reply fed to the machine (which decides when one is dead). */
  private startPinger(cfg: NodeConfig): void {
    const hosts = cfg.hacf.pingNodes.flatMap((p) => p.hosts);
    if (!hosts.length) return;
    this.pinger = new Pinger({
      hosts,
      intervalMs: echoIntervalMs(cfg.hacf.keepaliveMs, cfg.hacf.deadpingMs),
      onReply: (host) => this.handle({ type: 'ping-reply', host }),
      log: (level, event, text, data) => this.log.emit(level, event, text, data),
    });
    this.pinger.start();
    const ipfail = cfg.hacf.respawn.find((r) => r.builtin === 'ipfail');
    this.log.emit('info', 'ping-nodes', `ping nodes ${cfg.hacf.pingNodes.map((p) => (p.group ? `${p.name} (${p.hosts.join(' ')})` : p.name)).join(', ')}: echo every ${echoIntervalMs(cfg.hacf.keepaliveMs, cfg.hacf.deadpingMs)} ms, dead after deadping ${cfg.hacf.deadpingMs} ms; ${ipfail ? `ipfail built in (${ipfail.argv[0]} is not run)` : 'no ipfail: resources do not follow them'}`);
  }

  /** The announcer (every strategy form, src/effects/announce): its capture handles are open before any takeover. */
  private startAnnouncer(strategy: ReturnType<typeof parseStrategy>, ifaces: string[], vips: string[], name: string): void {
    const o = this.opts;
    this.groups!.announcer = createAnnouncer(strategy, ifaces, {
      confirm: o.capture,
      captureDir: o.captureDir ?? (process.cwd() === '/' ? join(o.stateDir, 'captures') : resolve('captures')),
      node: name,
      vips,
      onReport: (r, final) => this.groups!.onGarpReport(r, final),
      log: (level, event, text, data) => this.log.emit(level, event, text, data),
    });
  }

  private logConfig(cfg: NodeConfig): void {
    const { hacf } = cfg;
    const o = this.opts;
    this.log.emit('info', 'config', `keepalive ${hacf.keepaliveMs} ms, deadtime ${hacf.deadtimeMs} ms, warntime ${hacf.warntimeMs} ms, initdead ${hacf.initdeadMs} ms, media: ${this.links!.labels().join(', ')}, garp ${o.garp}${o.capture ? ' (confirmed by capture)' : ''}`);
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
          this.links!.send(a.msg, this.key);
          break;
        case 'log':
          this.log.emit(a.level, a.event, a.text, a.data);
          break;
        case 'acquire':
        case 'release':
          this.groups!.enqueue(a, (done) => this.handle(done));
          break;
        case 'announce':
          this.groups!.reannounce(a.group);
          break;
        case 'peer-clients':
          this.onPeerClients(a);
          break;
        case 'exit':
          void this.stop(a.code);
          break;
      }
    }
    this.arm();
  }

  private onPeerClients(a: Extract<Action, { type: 'peer-clients' }>): void {
    this.groups!.announcer?.addPeerClients?.(a.clients);
    // a new list is news (these clients get directed announcements at takeover); its repeats every 5 s are not
    const text = encodeClientList(a.clients);
    const changed = this.peerClientLists.get(a.node) !== text;
    this.peerClientLists.set(a.node, text);
    this.log.emit(changed ? 'info' : 'debug', 'peer-clients', `${a.clients.length} client(s) learned from ${a.node}`, { peer: a.node, clients: a.clients.map((c) => c.ip) });
  }

  /** The one timer, set for the machine's next wake; left alone when that did not move (most messages don't move it). */
  private arm(): void {
    if (this.stopped || !this.machine) return;
    const now = nowMs();
    const due = Math.min(this.machine.nextWakeMs(), now + MAX_TIMER_MS);
    if (this.timer && due === this.timerDue) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    // Node dates a timer from the event loop's cached time (up to the work done since, earlier than nowMs()):
    // set for due - now, it fired before due, found nothing to do and woke the process again 1 ms later, every
    // keepalive. Whole milliseconds plus one fire at or after due (and share Node's list of one duration).
    this.timer = setTimeout(this.onTimer, Math.ceil(Math.max(0, due - now)) + 1);
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.handle({ type: 'tick' });
    this.handLearnedClients();
  };

  /**
   * The clients the announcer learned, given to the machine at most once a second (it tells its peers when they
   * change), on the machine's own timer: a timer of their own woke the process once more every second.
   */
  private handLearnedClients(): void {
    const now = nowMs();
    if (now < this.clientsHandedMs + CLIENTS_EVERY_MS && now >= this.clientsHandedMs) return;
    this.clientsHandedMs = now;
    if (this.machine && !this.stopped) this.handle({ type: 'clients', clients: this.groups!.announcer?.learnedClients?.() ?? [] });
  }

  // ------------------------------------------------------------------ control socket

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
    const st = this.machine!.getStatus();
    return {
      ...st,
      pid: process.pid,
      media: this.links?.labels() ?? [],
      vips: this.groups?.vips() ?? [],
      daemon: { ...this.counters },
      garp: this.groups?.recentGarps() ?? [],
      clients: this.groups?.announcer?.knownClients?.() ?? [],
      respawn: this.respawn?.status() ?? [],
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
    process.on('exit', () => this.groups?.forceRelease());
  }

  /** Graceful stop: the machine releases everything, sends shutdone, then asks us to exit. */
  shutdown(why: string): void {
    if (this.exiting) {
      if (why === 'SIGINT') void this.stop(130); // a second Ctrl-C: don't wait
      return;
    }
    this.exiting = true;
    this.log.emit('info', 'signal', `${why}: shutting down gracefully`);
    this.handle({ type: 'command', cmd: 'shutdown' });
    setTimeout(() => void this.stop(0), Math.max(10_000, 2 * this.machine!.cfg.deadtimeMs)).unref();
  }

  private async stop(code: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.pinger?.close();
    this.respawn?.stop();
    await this.groups?.settled();
    // give the last datagrams (shutdone) a moment to leave
    await new Promise((r) => setTimeout(r, 20));
    this.groups?.forceRelease();
    this.groups?.announcer?.close();
    this.links?.close();
    this.controlServer?.close();
    await rm(controlPath(this.opts.stateDir), { force: true }).catch(() => {});
    this.log.emit('info', 'exit', `stopped (exit ${code})`);
    await this.log.log?.close();
    await runCleanups();
    this.finish(code);
  }
}
