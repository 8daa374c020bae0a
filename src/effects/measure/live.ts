/**
 * The live runner of measure-failover: probes the VIP with iputils ping through this host's kernel (so its
 * neighbour cache is what is tested), captures ARP/ICMP/Heartbeat/VRRP with a `tcpdump -U -w -` pipe (kernel
 * timestamps), follows the neighbour entry with `ip -ts monitor neigh`, optionally runs a trigger command at a
 * marked t0, and stops on --timeout / --until-recovered / stop(). All timestamps are CLOCK_REALTIME epoch ms.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { envError, usageError } from '../../core/errors.js';
import { ipJson } from '../io/exec.js';
import type { NeighEvent, WireEvent } from '../../models/measure/events.js';
import { parsePingLine, PingProbes } from '../../models/measure/ping-lines.js';
import { parseNeighLine, neighStateOf } from '../../models/measure/neigh-events.js';
import { PcapStreamReader } from '../../codecs/pcap-stream.js';
import { CAPTURE_FILTER, wireEventOf } from '../../models/measure/frames.js';
import type { AnalysisInput } from '../../models/measure/analyze.js';
import { BROADCAST } from '../../models/measure/analyze.js';

import { nowMs } from '../../core/clock.js';
export { nowMs };

/** client sysctls are re-read this often; a change is attributed to outages starting up to this much earlier */
export const SYSCTL_SAMPLE_MS = 250;

export interface Route {
  iface: string;
  clientIp?: string;
  clientMac?: string;
}

/**
 * Where does this host reach the VIP? It must be on a directly connected subnet: through a router, this host
 * never ARPs for the VIP (it ARPs for the router), so the takeover's ARP side cannot be seen from here.
 */
export async function resolveRoute(vip: string, iface?: string): Promise<Route> {
  if (iface) {
    const links = await ipJson<{ ifname: string; address?: string; operstate?: string }[]>(['link', 'show']).catch(() => []);
    if (!links.some((l) => l.ifname === iface)) throw envError(`no interface ${iface}`, 'IFACE', `name one of: ${links.map((l) => l.ifname).join(', ') || '(none)'}`);
  }
  let routes: { dst?: string; dev?: string; gateway?: string; prefsrc?: string; type?: string }[];
  try {
    routes = await ipJson(['route', 'get', vip, ...(iface ? ['oif', iface] : [])]);
  } catch {
    throw envError(`no route to ${vip}`, iface ? `via ${iface}` : 'routing table', 'give the interface on the VIP’s subnet, or bring it up');
  }
  const r = routes[0];
  if (!r?.dev) throw envError(`no route to ${vip}`, 'routing table', 'give the interface on the VIP’s subnet');
  if (r.type === 'local' || r.dev === 'lo') throw usageError(`${vip} is an address of this host`, 'route', 'run measure-failover on a client of the cluster, not on the node that holds the VIP');
  if (r.gateway) {
    throw usageError(
      `${vip} is not on a directly connected subnet`,
      `route via ${r.gateway} dev ${r.dev}`,
      `from here only the outage length could be measured, not the ARP cause (this host ARPs for the router ${r.gateway}, not the VIP); run it on a host on the VIP's subnet`,
    );
  }
  const route: Route = { iface: r.dev };
  if (r.prefsrc) route.clientIp = r.prefsrc;
  const link = await ipJson<{ address?: string }[]>(['link', 'show', 'dev', r.dev]).catch(() => []);
  if (link[0]?.address) route.clientMac = link[0].address.toLowerCase();
  return route;
}

/** Client sysctls that decide what it does with announcements and how long it keeps a dead MAC. */
export function readClientSysctls(iface: string): Record<string, number> {
  const out: Record<string, number> = {};
  const read = (path: string, key: string) => {
    try {
      out[key] = Number(readFileSync(path, 'utf8').trim());
    } catch {
      /* not there on this kernel */
    }
  };
  for (const k of ['drop_gratuitous_arp', 'arp_accept']) read(`/proc/sys/net/ipv4/conf/${iface}/${k}`, k);
  for (const k of ['base_reachable_time_ms', 'delay_first_probe_time', 'ucast_solicit', 'mcast_solicit', 'mcast_resolicit']) read(`/proc/sys/net/ipv4/neigh/${iface}/${k}`, k);
  return out;
}

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
  trigger?: { command: string; tsMs: number; exitCode?: number; output: string };
  stoppedBy: 'timeout' | 'recovered' | 'signal' | 'ping-exited';
}

function spawnChecked(argv: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  // detached: our own process group, so a terminal Ctrl-C reaches hadiag (which then stops these by PID).
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, LC_ALL: 'C', ...env } });
  return child;
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resolve();
    const t = setTimeout(() => {
      try {
        process.kill(child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 2000);
    child.once('close', () => {
      clearTimeout(t);
      resolve();
    });
    try {
      process.kill(child.pid, signal);
    } catch {
      clearTimeout(t);
      resolve();
    }
  });
}

const waitFor = (child: ChildProcess, pattern: RegExp, timeoutMs: number, what: string): Promise<void> =>
  new Promise((resolve, reject) => {
    let err = '';
    const t = setTimeout(() => reject(envError(`${what} did not start`, err.trim().split('\n')[0] || 'no output', 'is it installed, and are you root?')), timeoutMs);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (pattern.test(err)) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      reject(e.code === 'ENOENT' ? envError(`${what} not found`, 'PATH', 'install it (npm run setup)') : e);
    });
    child.once('close', (code) => {
      clearTimeout(t);
      reject(envError(`${what} exited (code ${code})`, err.trim().split('\n').at(-1) || 'no output', 'check the interface and that you are root'));
    });
  });

export async function measureLive(opts: LiveOptions): Promise<LiveResult> {
  const route = await resolveRoute(opts.vip, opts.iface);
  const iface = opts.iface ?? route.iface;
  const sysctlSamples = [{ tsMs: nowMs(), values: readClientSysctls(iface) }];
  let lastSysctlRead = nowMs();
  const probes = new PingProbes(opts.intervalMs);
  const wire: WireEvent[] = [];
  const neigh: NeighEvent[] = [];
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const c of children) if (c.pid && c.exitCode === null) try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
  };
  process.once('exit', killAll);
  let out: WriteStream | undefined;
  let capturedFrames = 0;
  const state: LiveState = { phase: 'starting', sent: 0, lost: 0, unicastProbes: 0, outages: 0, triggered: false };
  let lastReplyMac: string | undefined;
  let outageStart: number | undefined;
  let recoveredAt: number | undefined;
  let lastReplyTs: number | undefined;
  let answered = 0;
  const runStartTsMs = nowMs();
  let result: LiveResult['trigger'];

  try {
    // 1. capture (kernel timestamps), also saved to the pcap file as it streams
    mkdirSync(dirname(opts.writePath), { recursive: true });
    out = createWriteStream(opts.writePath);
    const reader = new PcapStreamReader();
    const tcpdump = spawnChecked(['tcpdump', '-i', iface, '-U', '-w', '-', '-n', '-s', '256', '--immediate-mode', '--time-stamp-precision=micro', CAPTURE_FILTER]);
    children.push(tcpdump);
    tcpdump.stdout!.on('data', (chunk: Buffer) => {
      out!.write(chunk);
      for (const r of reader.push(chunk)) {
        capturedFrames++;
        const e = wireEventOf(r.data, r.tsMs, r.linktype);
        if (!e) continue;
        wire.push(e);
        if (e.kind === 'icmp' && e.type === 'echo-reply' && e.srcIp === opts.vip) lastReplyMac = e.srcMac;
        if (e.kind === 'arp' && e.op === 'request' && e.targetIp === opts.vip && e.senderIp !== opts.vip && e.dstMac !== BROADCAST && state.phase === 'outage') {
          state.unicastProbes++;
          state.unicastProbeMac = e.dstMac;
        }
      }
    });
    await waitFor(tcpdump, /listening on/, 5000, 'tcpdump');

    // 2. neighbour entry of the VIP (ip's own timestamps; -ts prints local time, so force UTC)
    const mon = spawnChecked(['ip', '-ts', 'monitor', 'neigh'], { TZ: 'UTC' });
    children.push(mon);
    createInterface({ input: mon.stdout! }).on('line', (line) => {
      const ev = parseNeighLine(line, nowMs());
      if (!ev || ev.ip !== opts.vip) return;
      neigh.push(ev);
      state.neighState = neighStateOf(ev);
      if (ev.lladdr) state.neighMac = ev.lladdr;
    });

    // 3. probes through this host's kernel
    const ping = spawnChecked(['ping', '-D', '-O', '-n', '-i', String(opts.intervalMs / 1000), ...(opts.iface ? ['-I', iface] : []), opts.vip]);
    children.push(ping);
    let pingErr = '';
    ping.stderr!.setEncoding('utf8').on('data', (d: string) => (pingErr += d));
    createInterface({ input: ping.stdout! }).on('line', (line) => {
      const l = parsePingLine(line);
      if (!l) return;
      const p = probes.add(l);
      state.sent = probes.count;
      if (l.kind === 'reply' && !l.dup) {
        answered++;
        lastReplyTs = l.tsMs;
        if (state.phase === 'outage') {
          state.phase = 'recovered';
          recoveredAt = l.tsMs;
          state.outageMs = l.tsMs - (outageStart ?? l.tsMs);
        } else if (state.phase === 'starting') state.phase = 'probing';
      } else if (l.kind !== 'reply' && p.replyTsMs === undefined) {
        state.lost++;
        // ping reports a probe missing one interval after it went out: 3 in a row is an outage
        if (state.phase !== 'outage' && lastReplyTs !== undefined && l.tsMs - lastReplyTs > 3 * opts.intervalMs + 20) {
          state.phase = 'outage';
          state.outages++;
          state.unicastProbes = 0;
          outageStart = lastReplyTs;
          recoveredAt = undefined;
        }
      }
      if (state.phase === 'outage' && outageStart !== undefined) state.outageMs = nowMs() - outageStart;
    });
    const pingClosed = new Promise<void>((resolve) => ping.once('close', () => resolve()));

    // 4. run until a stop rule fires
    const warmupMs = opts.warmupMs ?? Math.max(1000, 20 * opts.intervalMs);
    const settleMs = opts.settleMs ?? 2000;
    let triggerDone: Promise<void> | undefined;
    let triggerEndedAt: number | undefined;
    const stoppedBy = await new Promise<LiveResult['stoppedBy']>((resolve) => {
      let pingGone = false;
      void pingClosed.then(() => (pingGone = true));
      const onAbort = () => resolve('signal');
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const tick = setInterval(() => {
        const now = nowMs();
        opts.onState?.({ ...state });
        if (now - lastSysctlRead >= SYSCTL_SAMPLE_MS) {
          lastSysctlRead = now;
          const values = readClientSysctls(iface);
          if (JSON.stringify(values) !== JSON.stringify(sysctlSamples[sysctlSamples.length - 1]!.values)) sysctlSamples.push({ tsMs: now, values });
        }
        if (pingGone) return done('ping-exited');
        if (opts.trigger && !state.triggered && answered > 0 && now - runStartTsMs >= warmupMs) {
          state.triggered = true;
          const started = { command: opts.trigger, tsMs: nowMs(), output: '' };
          result = started;
          triggerDone = runTrigger(opts.trigger).then((r) => {
            Object.assign(started, r);
            triggerEndedAt = nowMs();
          });
        }
        if (now - runStartTsMs >= opts.timeoutMs) return done('timeout');
        // --until-recovered: the first outage that ends. --trigger: the trigger has finished (it may cause
        // several outages) and the last outage since t0 has ended.
        const recovered = recoveredAt !== undefined && state.phase === 'recovered';
        if (opts.untilRecovered && !opts.trigger && recovered && now - recoveredAt! >= settleMs) return done('recovered');
        if (opts.trigger && triggerEndedAt !== undefined && recovered && recoveredAt! >= result!.tsMs && now - Math.max(recoveredAt!, triggerEndedAt) >= settleMs) return done('recovered');
      }, 50);
      function done(why: LiveResult['stoppedBy']) {
        clearInterval(tick);
        opts.signal?.removeEventListener('abort', onAbort);
        resolve(why);
      }
      opts.signal?.addEventListener('abort', () => clearInterval(tick), { once: true });
    });
    if (stoppedBy === 'ping-exited' && answered === 0 && probes.count === 0) {
      throw envError('ping exited', pingErr.trim().split('\n')[0] || 'no output', 'check the VIP address and that you are root');
    }
    const runEndTsMs = nowMs();
    await stopChild(ping, 'SIGINT');
    if (opts.checkDuplicates && stoppedBy !== 'signal') {
      // Duplicate-address probe (sender IP 0.0.0.0): every host holding the VIP answers. Only after the
      // probes: a reply also refreshes this host's entry for the VIP, which must not happen while measuring.
      await runArpingDad(iface, opts.vip);
    }
    await new Promise((r) => setTimeout(r, 100)); // let the last frames reach the capture
    await stopChild(mon);
    await stopChild(tcpdump);
    if (triggerDone) await Promise.race([triggerDone, new Promise((r) => setTimeout(r, 5000))]);
    await new Promise<void>((r) => out!.end(() => r()));
    if (reader.error) throw envError('capture stream unreadable', reader.error, 'report this (tcpdump output format)');

    const input: AnalysisInput = {
      vip: opts.vip,
      intervalMs: opts.intervalMs,
      probes: probes.probes(),
      wire: wire.sort((a, b) => a.tsMs - b.tsMs),
      neigh,
      client: { ...(route.clientIp ? { ip: route.clientIp } : {}), ...(route.clientMac ? { mac: route.clientMac } : {}) },
      iface,
      runStartTsMs,
      runEndTsMs,
      sysctls: sysctlSamples[sysctlSamples.length - 1]!.values,
      sysctlSamples,
    };
    if (result) input.triggerTsMs = result.tsMs;
    const res: LiveResult = { input, pcapPath: opts.writePath, capturedFrames, stoppedBy };
    if (result) res.trigger = result;
    void lastReplyMac;
    return res;
  } finally {
    killAll();
    process.removeListener('exit', killAll);
    if (out && !out.closed) out.end();
  }
}

/** Run the trigger through sh at a marked t0 (the timestamp is taken right before the spawn). */
function runTrigger(command: string): Promise<NonNullable<LiveResult['trigger']>> {
  return new Promise((resolve) => {
    const tsMs = nowMs();
    const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('close', (code) => resolve({ command, tsMs, ...(code !== null ? { exitCode: code } : {}), output: output.slice(0, 2000) }));
    child.on('error', (e) => resolve({ command, tsMs, output: String(e.message) }));
  });
}

/** `arping -D -c 2 -w 3 -I IFACE VIP`; its exit code does not matter, the capture records the answers. */
function runArpingDad(iface: string, vip: string): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn('arping', ['-D', '-c', '2', '-w', '3', '-I', iface, vip], { stdio: 'ignore' });
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.on('error', () => {
      clearTimeout(t);
      resolve();
    });
    child.on('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
