/**
 * measure-failover --watch: probes the VIP with ping, captures ARP/ICMP/Heartbeat/VRRP with tcpdump and follows
 * the neighbour entry, for as long as it is left running. Every captured frame goes into the streaming analysis
 * (models/measure/stream.ts) and into a rolling capture (effects/io/pcap-ring.ts) at once and is then dropped:
 * each outage is handed to `onOutage` when it has ended, its ±30 s kept on disk. Memory stays flat: nothing
 * grows with the length of the run. Stops on the signal (SIGINT/SIGTERM) or when ping exits.
 */
import type { ClusterTimers } from '../../models/measure/takeover.js';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { envError, HadiagError } from '../../core/errors.js';
import { nowMs, sleep } from '../../core/clock.js';
import { PcapReader } from '../../codecs/pcap.js';
import { parseNeighLine } from '../../models/measure/neigh-events.js';
import { CAPTURE_FILTER, wireEventOf } from '../../models/measure/frames.js';
import { MeasureStream } from '../../models/measure/stream.js';
import type { Analysis, OutageReport } from '../../models/measure/report.js';
import { PcapRing, type Segment } from '../io/pcap-ring.js';
import { readClientSysctls, resolveRoute } from './client-host.js';
import { spawnChecked, stopChild, waitFor } from './processes.js';

/** how much capture around each outage the ring keeps */
export const KEEP_AROUND_MS = 30_000;

export interface WatchOptions {
  vip: string;
  iface?: string;
  intervalMs: number;
  /** base path of the rolling capture's segments */
  writePath: string;
  limitBytes: number;
  expectMs?: number;
  /** the cluster's configured timers (--hacf) */
  timers?: ClusterTimers;
  signal: AbortSignal;
  onOutage: (report: OutageReport) => void;
}

export interface WatchResult {
  analysis: Analysis;
  iface: string;
  segments: readonly Segment[];
  capturedFrames: number;
  stoppedBy: 'signal' | 'ping-exited';
}

export async function watchLive(opts: WatchOptions): Promise<WatchResult> {
  const route = await resolveRoute(opts.vip, opts.iface);
  const iface = opts.iface ?? route.iface;
  const client = { ...(route.clientIp ? { ip: route.clientIp } : {}), ...(route.clientMac ? { mac: route.clientMac } : {}) };
  const runStartTsMs = nowMs();
  let ring: PcapRing | undefined;
  const stream = new MeasureStream({
    vip: opts.vip,
    intervalMs: opts.intervalMs,
    iface,
    client,
    sysctls: readClientSysctls(iface, opts.vip.includes(':') ? 6 : 4),
    ...(opts.expectMs !== undefined ? { expectMs: opts.expectMs } : {}),
    ...(opts.timers ? { timers: opts.timers } : {}),
    onOutage: (r) => {
      ring?.keep((r.lastOkTsMs ?? r.startTsMs) - KEEP_AROUND_MS, (r.endTsMs ?? nowMs()) + KEEP_AROUND_MS);
      opts.onOutage(r);
    },
  });
  ring = new PcapRing({ path: opts.writePath, limitBytes: opts.limitBytes, protectFrom: () => protectFrom(stream) });
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const c of children) if (c.pid && c.exitCode === null) try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
  };
  process.once('exit', killAll);
  try {
    const spawn = (argv: string[], env?: NodeJS.ProcessEnv) => {
      const c = spawnChecked(argv, env);
      children.push(c);
      return c;
    };
    const capture = startCapture(spawn, iface, ring, stream);
    await waitFor(capture.tcpdump, /listening on/, 5000, 'tcpdump');
    const mon = spawn(['ip', ...(opts.vip.includes(':') ? ['-6'] : []), '-ts', 'monitor', 'neigh'], { TZ: 'UTC' });
    createInterface({ input: mon.stdout! }).on('line', (line) => {
      const ev = parseNeighLine(line, nowMs(), opts.vip.includes(':') ? 6 : 4);
      if (ev && ev.ip === opts.vip) stream.addNeigh(ev);
    });
    const ping = spawn(['ping', ...(opts.vip.includes(':') ? ['-6'] : []), '-n', '-q', '-i', String(opts.intervalMs / 1000), ...(opts.iface ? ['-I', iface] : []), opts.vip]);
    let pingErr = '';
    ping.stderr!.setEncoding('utf8').on('data', (d: string) => (pingErr = (pingErr + d).slice(-2000)));
    ping.stdout!.resume();
    const stoppedBy = await untilStopped(opts.signal, ping);
    await stopChild(ping, 'SIGINT');
    await sleep(100); // the last frames reach the capture
    await stopChild(mon);
    await stopChild(capture.tcpdump);
    ring.close();
    if (capture.error()) throw envError('capture stream unreadable', capture.error()!, 'report this (tcpdump output format)');
    if (stoppedBy === 'ping-exited' && stream.probeCount === 0) throw envError('ping exited', pingErr.trim().split('\n')[0] || 'no output', 'check the VIP address and that you are root');
    const analysis = stream.finish(nowMs());
    analysis.runStartTsMs = runStartTsMs;
    analysis.runEndTsMs = nowMs();
    return { analysis, iface, segments: ring.files(), capturedFrames: capture.frames(), stoppedBy };
  } finally {
    killAll();
    process.removeListener('exit', killAll);
    ring.close();
  }
}

/** Segments from 30 s before an outage that is open or not yet reported must stay until it is. */
function protectFrom(stream: MeasureStream): number | undefined {
  const from = stream.unreportedFromTsMs;
  return from === undefined ? undefined : from - KEEP_AROUND_MS;
}

function startCapture(spawn: (argv: string[]) => ChildProcess, iface: string, ring: PcapRing, stream: MeasureStream) {
  const reader = new PcapReader('tcpdump -w -');
  const tcpdump = spawn(['tcpdump', '-i', iface, '-U', '-w', '-', '-n', '-s', '256', '--immediate-mode', '--time-stamp-precision=micro', CAPTURE_FILTER]);
  let error: string | undefined;
  let frames = 0;
  tcpdump.stdout!.on('data', (chunk: Buffer) => {
    if (error !== undefined) return;
    try {
      for (const r of reader.read(chunk)) {
        frames++;
        ring.write(r.tsMs, r.data, r.origLen);
        const e = wireEventOf(r.data, r.tsMs, r.linktype);
        if (e) stream.addWire(e);
      }
    } catch (err) {
      if (!(err instanceof HadiagError)) throw err;
      error = err.message;
    }
  });
  return { tcpdump, error: () => error, frames: () => frames };
}

function untilStopped(signal: AbortSignal, ping: ChildProcess): Promise<WatchResult['stoppedBy']> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve('signal');
    signal.addEventListener('abort', () => resolve('signal'), { once: true });
    ping.once('close', () => resolve('ping-exited'));
  });
}
