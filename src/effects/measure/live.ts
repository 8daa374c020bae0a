/**
 * The live runner of measure-failover: probes the VIP with iputils ping through this host's kernel (so its
 * neighbour cache is what is tested), captures ARP/ICMP/ICMPv6/Heartbeat/VRRP with a `tcpdump -U -w -` pipe (kernel
 * timestamps) read by the pcap codec, follows the neighbour entry with `ip -ts monitor neigh` (an IPv6 VIP:
 * `ping -6`, `ip -6 monitor neigh`, the IPv6 sysctls), optionally runs a
 * trigger command at a marked t0, and stops on --timeout / --until-recovered / stop(). All timestamps are
 * CLOCK_REALTIME epoch ms.
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { envError, HadiagError } from '../../core/errors.js';
import { nowMs, sleep } from '../../core/clock.js';
import { PcapReader, type PcapRecord } from '../../codecs/pcap.js';
import type { NeighEvent, WireEvent } from '../../models/measure/events.js';
import { parsePingLine, PingProbes } from '../../models/measure/ping-lines.js';
import { parseNeighLine, neighStateOf } from '../../models/measure/neigh-events.js';
import { CAPTURE_FILTER, wireEventOf } from '../../models/measure/frames.js';
import { BROADCAST, type AnalysisInput } from '../../models/measure/analyze.js';
import { readClientSysctls, resolveRoute, type Route } from './client-host.js';
import { runArpingDad, runTrigger, spawnChecked, stopChild, waitFor, type TriggerRun } from './processes.js';

/** client sysctls are re-read this often; a change is attributed to outages starting up to this much earlier */
export const SYSCTL_SAMPLE_MS = 250;

export interface LiveState {
  phase: 'starting' | 'probing' | 'outage' | 'recovered';
  sent: number;
  lost: number;
  outageMs?: number;
  neighState?: string;
  neighMac?: string;
  unicastProbes: number;
  unicastProbeMac?: string;
  outages: number;
  triggered: boolean;
}

export interface LiveOptions {
  vip: string;
  iface?: string;
  intervalMs: number;
  timeoutMs: number;
  untilRecovered: boolean;
  trigger?: string;
  /** pcap file to write (directory created on demand) */
  writePath: string;
  /** probes answered before the trigger runs (default 1 s worth, at least 20) */
  warmupMs?: number;
  /** after recovery, keep measuring this long before stopping with --until-recovered / a trigger (default 2 s) */
  settleMs?: number;
  onState?: (s: LiveState) => void;
  /** AbortSignal: stop measuring and analyze what was seen (Ctrl-C) */
  signal?: AbortSignal;
  /** after probing, ask for the VIP by broadcast (`arping -D`) so that two owners both answer (split brain) */
  checkDuplicates?: boolean;
}

export interface LiveResult {
  input: AnalysisInput;
  pcapPath: string;
  capturedFrames: number;
  trigger?: TriggerRun;
  stoppedBy: 'timeout' | 'recovered' | 'signal' | 'ping-exited';
}

export async function measureLive(opts: LiveOptions): Promise<LiveResult> {
  const route = await resolveRoute(opts.vip, opts.iface);
  return new LiveRun(opts, route).measure();
}

type StopReason = LiveResult['stoppedBy'];

/** One measurement: the helper processes, what they reported so far, and the rules that end it. */
class LiveRun {
  private readonly iface: string;
  /** an IPv6 VIP: ping -6, ICMPv6 and ND in the capture, `ip -6 monitor neigh`, IPv6 sysctls */
  private readonly family: 4 | 6;
  private readonly sysctlSamples: { tsMs: number; values: Record<string, number> }[];
  private lastSysctlRead: number;
  private readonly probes: PingProbes;
  private readonly wire: WireEvent[] = [];
  private readonly neigh: NeighEvent[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly state: LiveState = { phase: 'starting', sent: 0, lost: 0, unicastProbes: 0, outages: 0, triggered: false };
  private readonly runStartTsMs: number;
  private readonly warmupMs: number;
  private readonly settleMs: number;
  private out: WriteStream | undefined;
  private capturedFrames = 0;
  /** why the capture stream could not be read (the records after it are lost) */
  private streamError: string | undefined;
  private pingErr = '';
  private outageStart: number | undefined;
  private recoveredAt: number | undefined;
  private lastReplyTs: number | undefined;
  private answered = 0;
  private trigger: TriggerRun | undefined;
  private triggerDone: Promise<void> | undefined;
  private triggerEndedAt: number | undefined;

  constructor(
    private readonly opts: LiveOptions,
    private readonly route: Route,
  ) {
    this.iface = opts.iface ?? route.iface;
    this.family = opts.vip.includes(':') ? 6 : 4;
    this.sysctlSamples = [{ tsMs: nowMs(), values: readClientSysctls(this.iface, this.family) }];
    this.lastSysctlRead = nowMs();
    this.probes = new PingProbes(opts.intervalMs);
    this.runStartTsMs = nowMs();
    this.warmupMs = opts.warmupMs ?? Math.max(1000, 20 * opts.intervalMs);
    this.settleMs = opts.settleMs ?? 2000;
  }

  private readonly killAll = () => {
    for (const c of this.children) if (c.pid && c.exitCode === null) try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
  };

  async measure(): Promise<LiveResult> {
    process.once('exit', this.killAll);
    try {
      const tcpdump = await this.startCapture();
      const mon = this.followNeighbourEntry();
      const ping = this.startPing();
      const pingClosed = new Promise<void>((resolve) => ping.once('close', () => resolve()));
      const stoppedBy = await this.runUntilStop(pingClosed);
      if (stoppedBy === 'ping-exited' && this.answered === 0 && this.probes.count === 0) {
        throw envError('ping exited', this.pingErr.trim().split('\n')[0] || 'no output', 'check the VIP address and that you are root');
      }
      const runEndTsMs = nowMs();
      await this.wrapUp(stoppedBy, ping, mon, tcpdump);
      return this.result(stoppedBy, runEndTsMs);
    } finally {
      this.killAll();
      process.removeListener('exit', this.killAll);
      if (this.out && !this.out.closed) this.out.end();
    }
  }

  private spawn(argv: string[], env?: NodeJS.ProcessEnv): ChildProcess {
    const child = spawnChecked(argv, env);
    this.children.push(child);
    return child;
  }

  /** 1. capture (kernel timestamps), also saved to the pcap file as it streams */
  private async startCapture(): Promise<ChildProcess> {
    mkdirSync(dirname(this.opts.writePath), { recursive: true });
    const out = (this.out = createWriteStream(this.opts.writePath));
    const reader = new PcapReader('tcpdump -w -');
    const tcpdump = this.spawn(['tcpdump', '-i', this.iface, '-U', '-w', '-', '-n', '-s', '256', '--immediate-mode', '--time-stamp-precision=micro', CAPTURE_FILTER]);
    tcpdump.stdout!.on('data', (chunk: Buffer) => {
      out.write(chunk);
      if (this.streamError === undefined) this.readCaptured(reader, chunk);
    });
    await waitFor(tcpdump, /listening on/, 5000, 'tcpdump');
    return tcpdump;
  }

  private readCaptured(reader: PcapReader, chunk: Buffer): void {
    try {
      for (const r of reader.read(chunk)) this.onFrame(r);
    } catch (err) {
      if (!(err instanceof HadiagError)) throw err;
      this.streamError = err.message;
    }
  }

  private onFrame(r: PcapRecord): void {
    const { vip } = this.opts;
    this.capturedFrames++;
    const e = wireEventOf(r.data, r.tsMs, r.linktype);
    if (!e) return;
    this.wire.push(e);
    if (e.kind === 'arp' && e.op === 'request' && e.targetIp === vip && e.senderIp !== vip && e.dstMac !== BROADCAST && this.state.phase === 'outage') {
      this.state.unicastProbes++;
      this.state.unicastProbeMac = e.dstMac;
    }
  }

  /** 2. neighbour entry of the VIP (ip's own timestamps; -ts prints local time, so force UTC) */
  private followNeighbourEntry(): ChildProcess {
    const mon = this.spawn(['ip', ...(this.family === 6 ? ['-6'] : []), '-ts', 'monitor', 'neigh'], { TZ: 'UTC' });
    createInterface({ input: mon.stdout! }).on('line', (line) => {
      const ev = parseNeighLine(line, nowMs(), this.family);
      if (!ev || ev.ip !== this.opts.vip) return;
      this.neigh.push(ev);
      this.state.neighState = neighStateOf(ev);
      if (ev.lladdr) this.state.neighMac = ev.lladdr;
    });
    return mon;
  }

  /** 3. probes through this host's kernel */
  private startPing(): ChildProcess {
    const { opts } = this;
    const ping = this.spawn(['ping', ...(this.family === 6 ? ['-6'] : []), '-D', '-O', '-n', '-i', String(opts.intervalMs / 1000), ...(opts.iface ? ['-I', this.iface] : []), opts.vip]);
    ping.stderr!.setEncoding('utf8').on('data', (d: string) => (this.pingErr += d));
    createInterface({ input: ping.stdout! }).on('line', (line) => this.onPingLine(line));
    return ping;
  }

  private onPingLine(line: string): void {
    const { state } = this;
    const l = parsePingLine(line);
    if (!l) return;
    const p = this.probes.add(l);
    state.sent = this.probes.count;
    if (l.kind === 'reply' && !l.dup) {
      this.answered++;
      this.lastReplyTs = l.tsMs;
      if (state.phase === 'outage') {
        state.phase = 'recovered';
        this.recoveredAt = l.tsMs;
        state.outageMs = l.tsMs - (this.outageStart ?? l.tsMs);
      } else if (state.phase === 'starting') state.phase = 'probing';
    } else if (l.kind !== 'reply' && p.replyTsMs === undefined) {
      state.lost++;
      // ping reports a probe missing one interval after it went out: 3 in a row is an outage
      if (state.phase !== 'outage' && this.lastReplyTs !== undefined && l.tsMs - this.lastReplyTs > 3 * this.opts.intervalMs + 20) {
        state.phase = 'outage';
        state.outages++;
        state.unicastProbes = 0;
        this.outageStart = this.lastReplyTs;
        this.recoveredAt = undefined;
      }
    }
    if (state.phase === 'outage' && this.outageStart !== undefined) state.outageMs = nowMs() - this.outageStart;
  }

  /** 4. run until a stop rule fires */
  private runUntilStop(pingClosed: Promise<void>): Promise<StopReason> {
    const { signal } = this.opts;
    return new Promise<StopReason>((resolve) => {
      let pingGone = false;
      void pingClosed.then(() => (pingGone = true));
      const onAbort = () => resolve('signal');
      signal?.addEventListener('abort', onAbort, { once: true });
      const tick = setInterval(() => {
        const why = this.tick(pingGone);
        if (why) done(why);
      }, 50);
      const done = (why: StopReason) => {
        clearInterval(tick);
        signal?.removeEventListener('abort', onAbort);
        resolve(why);
      };
      signal?.addEventListener('abort', () => clearInterval(tick), { once: true });
    });
  }

  /** One look every 50 ms: report the state, sample sysctls, start the trigger when due; why to stop, if so. */
  private tick(pingGone: boolean): StopReason | undefined {
    const now = nowMs();
    this.opts.onState?.({ ...this.state });
    this.sampleSysctls(now);
    if (pingGone) return 'ping-exited';
    this.startTriggerWhenDue(now);
    if (now - this.runStartTsMs >= this.opts.timeoutMs) return 'timeout';
    return this.recoveredLongEnough(now) ? 'recovered' : undefined;
  }

  private sampleSysctls(now: number): void {
    if (now - this.lastSysctlRead < SYSCTL_SAMPLE_MS) return;
    this.lastSysctlRead = now;
    const values = readClientSysctls(this.iface, this.family);
    if (JSON.stringify(values) !== JSON.stringify(this.sysctlSamples[this.sysctlSamples.length - 1]!.values)) this.sysctlSamples.push({ tsMs: now, values });
  }

  private startTriggerWhenDue(now: number): void {
    const command = this.opts.trigger;
    if (!command || this.state.triggered || this.answered === 0 || now - this.runStartTsMs < this.warmupMs) return;
    this.state.triggered = true;
    const started: TriggerRun = { command, tsMs: nowMs(), output: '' };
    this.trigger = started;
    this.triggerDone = runTrigger(command).then((r) => {
      Object.assign(started, r);
      this.triggerEndedAt = nowMs();
    });
  }

  /**
   * --until-recovered: the first outage that ends. --trigger: the trigger has finished (it may cause several
   * outages) and the last outage since t0 has ended.
   */
  private recoveredLongEnough(now: number): boolean {
    const { opts, recoveredAt, triggerEndedAt } = this;
    if (recoveredAt === undefined || this.state.phase !== 'recovered') return false;
    if (opts.untilRecovered && !opts.trigger) return now - recoveredAt >= this.settleMs;
    return !!opts.trigger && triggerEndedAt !== undefined && recoveredAt >= this.trigger!.tsMs && now - Math.max(recoveredAt, triggerEndedAt) >= this.settleMs;
  }

  private async wrapUp(stoppedBy: StopReason, ping: ChildProcess, mon: ChildProcess, tcpdump: ChildProcess): Promise<void> {
    await stopChild(ping, 'SIGINT');
    if (this.opts.checkDuplicates && stoppedBy !== 'signal') {
      // Duplicate-address probe (sender IP 0.0.0.0): every host holding the VIP answers. Only after the
      // probes: a reply also refreshes this host's entry for the VIP, which must not happen while measuring.
      await runArpingDad(this.iface, this.opts.vip);
    }
    await sleep(100); // let the last frames reach the capture
    await stopChild(mon);
    await stopChild(tcpdump);
    if (this.triggerDone) await Promise.race([this.triggerDone, sleep(5000)]);
    await new Promise<void>((r) => this.out!.end(() => r()));
    if (this.streamError) throw envError('capture stream unreadable', this.streamError, 'report this (tcpdump output format)');
  }

  private result(stoppedBy: StopReason, runEndTsMs: number): LiveResult {
    const { opts, route } = this;
    const input: AnalysisInput = {
      vip: opts.vip,
      intervalMs: opts.intervalMs,
      probes: this.probes.probes(),
      wire: this.wire.sort((a, b) => a.tsMs - b.tsMs),
      neigh: this.neigh,
      client: { ...(route.clientIp ? { ip: route.clientIp } : {}), ...(route.clientMac ? { mac: route.clientMac } : {}) },
      iface: this.iface,
      runStartTsMs: this.runStartTsMs,
      runEndTsMs,
      sysctls: this.sysctlSamples[this.sysctlSamples.length - 1]!.values,
      sysctlSamples: this.sysctlSamples,
    };
    if (this.trigger) input.triggerTsMs = this.trigger.tsMs;
    const res: LiveResult = { input, pcapPath: opts.writePath, capturedFrames: this.capturedFrames, stoppedBy };
    if (this.trigger) res.trigger = this.trigger;
    return res;
  }
}
