/**
 * Scale: N real client namespaces (src/effects/lab/fleet.ts: each its own kernel ARP cache, half of them
 * dropping gratuitous ARP, each pinging the VIP every --interval ms) on one lab bridge, the VIP holder's link
 * goes down, and one capture on the bridge (tcpdump → hadiag's streaming pcap reader → models/scale/repoint.ts)
 * says when each client re-pointed: its first frame to the new holder's MAC. Rows: hadiag run-node `directed`
 * (its default), `directed:eth=unicast` (--managers hadiag-unicast), plain GARP, Heartbeat 3.0.6 and keepalived, each with its own announcements,
 * in the same run. Per run: time from the fault to each client re-pointed (median, max), ARP frames the new
 * holder sent, its CPU time during the takeover and per second in steady state, its RSS, the largest cluster
 * datagram (run-node's client book rides in one).
 *
 *   node --import tsx bench/scale.ts --clients 1,10,100,500 --vips 1,16,64 --managers hadiag,hadiag-garp,heartbeat,keepalived --runs 1 --hadiag-runs 3
 *
 * Each client talks to one VIP (round-robin): a run measures one (client, VIP) pair per client. --hadiag-runs R
 * runs the default row R times (the bar is a median over runs); each row records the load average at the fault
 * and the steady-state CPU/RSS slope against clients is printed and kept (`slopes`).
 *
 * Writes bench/results/scale-latest.json and docs/scale.svg (--svg FILE to write elsewhere, --no-svg not at all).
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { Fleet } from '../src/effects/lab/fleet.js';
import { applyFault, parseFault } from '../src/effects/lab/faults.js';
import { vipView } from '../src/effects/lab/vip.js';
import { labVips, servers, type LabState } from '../src/effects/lab/types.js';
import { netnsPids, newRunId, nsSpawn } from '../src/effects/io/netns.js';
import { PcapReader } from '../src/codecs/pcap.js';
import { decodeFrame } from '../src/codecs/decode.js';
import { RepointTracker } from '../src/models/scale/repoint.js';
import { median } from '../src/core/stats.js';
import { nowMs, sleep } from '../src/core/clock.js';
import { parseDuration } from '../src/core/duration.js';
import { PROJECT_ROOT } from '../src/core/module-argv.js';
import { cpuMs, memory } from './proc.js';
import { flag, fmtMs, fmtRatio, labModule, log, progress, ratio, writeResult, type LabModule } from './lib.js';
import { runOk } from '../src/effects/io/exec.js';
import { renderScaleSvg } from './scale-svg.js';

const PLAIN_GARP = 'both:count=10,interval=250ms';
const ROWS: Record<string, { manager: string; strategy: string; garp?: string }> = {
  hadiag: { manager: 'hadiag', strategy: 'directed', garp: 'directed' },
  'hadiag-unicast': { manager: 'hadiag', strategy: 'directed:eth=unicast', garp: 'directed:eth=unicast' },
  'hadiag-garp': { manager: 'hadiag', strategy: PLAIN_GARP, garp: PLAIN_GARP },
  heartbeat: { manager: 'heartbeat', strategy: 'IPaddr send_arp (its default)' },
  keepalived: { manager: 'keepalived', strategy: 'VRRP gratuitous ARP (its default)' },
};

export interface ScaleRow {
  manager: string;
  strategy: string;
  clients: number;
  vips: number;
  run: number;
  pairsMeasured: number;
  maxRepointMs?: number;
  medianRepointMs?: number;
  deadtimeMs: number;
  framesSent: number;
  /** the new holder's processes: CPU time from the fault to the last client re-pointed */
  cpuMs: number;
  /** the new holder's processes: CPU ms per second before the fault (standby) */
  steadyCpuMsPerS: number;
  /** the old holder's processes: CPU ms per second before the fault, serving every client */
  holderCpuMsPerS: number;
  rssMb: number;
  /** largest udp/694 payload the old holder sent before the fault (run-node's client book rides in one) */
  peerDatagramBytes?: number;
  /** the same per client behaviour: stock clients and clients dropping gratuitous ARP */
  byProfile?: Record<'stock' | 'dropGratuitous', { n: number; medianMs?: number; maxMs?: number }>;
  /** each client's ping interval: the truth's resolution for a client that re-points on a GARP (a directed request's answer is immediate) */
  intervalMs?: number;
  /** ms from the fault to the new holder's first ARP frame: detection plus the takeover up to its first announcement */
  firstFrameMs?: number;
  /** the machine's 1-minute load average at the fault (2 cores, shared with other engineers' tests) */
  load1?: number;
  /** wall clock minus this process's clock at the fault (ms), added to the fault's stamp */
  clockStepMs?: number;
  error?: string;
}

const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);

async function holderStats(netns: string): Promise<{ cpuMs: number; rssKb: number }> {
  let cpu = 0;
  let rss = 0;
  for (const pid of await netnsPids(netns)) {
    cpu += cpuMs(pid) ?? 0;
    rss += memory(pid)?.rssKb ?? 0;
  }
  return { cpuMs: cpu, rssKb: rss };
}

/** tcpdump on the bridge into hadiag's streaming reader: the frames the truth needs, with kernel stamps. */
function bridgeCapture(lab: LabState, newMac: string, tracker: RepointTracker): ChildProcess {
  const filter = `(ether dst ${newMac}) or (arp and ether src ${newMac}) or (udp port 694)`;
  const child = nsSpawn(lab.bridgeNetns, ['tcpdump', '-i', lab.bridge, '-w', '-', '-U', '-s', '1600', '-B', '65536', '-n', filter], { stdio: ['ignore', 'pipe', 'ignore'] });
  const reader = new PcapReader('bridge');
  child.stdout!.on('data', (chunk: Buffer) => {
    for (const r of reader.read(chunk)) tracker.feed(decodeFrame(r.data, reader.linktype), r.tsMs);
  });
  return child;
}

/** Each client's ping interval: 10 ms (the truth's resolution for clients that learn from a GARP), slower past 100 clients so the fleet stays near 10 000 pings/s on 2 cores. */
export function pingIntervalMs(clients: number, given = 0): number {
  return given > 0 ? given : Math.max(10, Math.ceil(clients / 10));
}

async function runOne(lab0: LabModule, key: string, clients: number, vips: number, run: number, o: { timers: string; intervalMs: number; maxWaitMs: number; settleMs: number }): Promise<ScaleRow> {
  const def = ROWS[key]!;
  const id = newRunId();
  const row: ScaleRow = { manager: def.manager, strategy: def.strategy, clients, vips, run, pairsMeasured: 0, deadtimeMs: 0, framesSent: 0, cpuMs: 0, steadyCpuMsPerS: 0, holderCpuMsPerS: 0, rssMb: 0 };
  let fleet: Fleet | undefined;
  let capture: ChildProcess | undefined;
  try {
    const prefix = Math.min(22, 32 - Math.ceil(Math.log2(clients + 256 * Math.ceil((vips + 21) / 256) + 2)));
    const lab = await lab0.upLab({ manager: def.manager, ...(def.garp ? { garp: def.garp } : {}), clients: 1, profiles: ['linux-default'], timers: o.timers, subnet: `198.18.0.0/${prefix}`, vips, name: id });
    const vipList = labVips(lab, 4).map((v) => v.address);
    row.deadtimeMs = lab.timers.deadtimeMs;
    const holder = (await vipView(lab)).holders[0]!;
    const next = servers(lab).find((s) => s.name !== holder)!;
    progress(`${key} × ${clients} clients × ${vips} VIPs: lab ${id} up, ${holder} holds the VIPs; building the fleet`);
    row.intervalMs = pingIntervalMs(clients, o.intervalMs);
    fleet = await Fleet.add(lab, { count: clients, vips: vipList, intervalMs: row.intervalMs });
    const tracker = new RepointTracker({ newMac: next.mac, vips: vipList, clients: fleet.clients.map((c) => c.address) });
    capture = bridgeCapture(lab, next.mac, tracker);
    fleet.startTraffic();
    await sleep(o.settleMs);
    const oldNetns = servers(lab).find((s) => s.name === holder)!.netns;
    const [s0, h0] = [await holderStats(next.netns), await holderStats(oldNetns)];
    await sleep(5000);
    const [s1, h1] = [await holderStats(next.netns), await holderStats(oldNetns)];
    row.steadyCpuMsPerS = (s1.cpuMs - s0.cpuMs) / 5;
    row.holderCpuMsPerS = (h1.cpuMs - h0.cpuMs) / 5;
    const oldMac = servers(lab).find((s) => s.name === holder)!.mac;
    const peer = tracker.summary().clusterMaxDatagram.get(oldMac);
    if (peer !== undefined) row.peerDatagramBytes = peer;
    const before = await vipView(lab);
    if (before.holders.length !== 1 || before.holders[0] !== holder || before.partial?.length) throw new Error(`the VIP moved before the fault (${before.holders.join(', ') || 'nobody'} holds it): the machine is overloaded — fewer clients or a longer --interval`);
    row.load1 = loadavg()[0]!;
    const sF = await holderStats(next.netns);
    const fault = await applyFault(lab, parseFault('link-down'));
    // the fault is stamped with nowMs() (performance.timeOrigin + performance.now(): this process's monotonic
    // clock), the capture with the kernel's wall clock: a wall-clock step since this process started (this VM's
    // clock was stepped by ~3.4 s during a 45-minute run) would shift every time by the step
    row.clockStepMs = Math.round(Date.now() - nowMs());
    tracker.fault(fault.atMs + row.clockStepMs);
    progress(`${key} × ${clients}: link-down of ${fault.host}; waiting for every client (≤ ${fmtMs(o.maxWaitMs)})`);
    const deadline = Date.now() + o.maxWaitMs;
    while (!tracker.done && Date.now() < deadline) await sleep(100);
    await sleep(300);
    const s2 = await holderStats(next.netns);
    row.cpuMs = s2.cpuMs - sF.cpuMs;
    row.rssMb = Math.round((Math.max(s1.rssKb, s2.rssKb) / 1024) * 10) / 10;
    const sum = tracker.summary();
    const times = [...sum.repointMs.values()];
    row.pairsMeasured = sum.repointed;
    row.framesSent = sum.framesSent;
    if (sum.firstFrameMs !== undefined) row.firstFrameMs = Math.round(sum.firstFrameMs);
    if (times.length) {
      row.medianRepointMs = Math.round(median(times) ?? NaN);
      row.maxRepointMs = Math.round(Math.max(...times));
    }
    const half = (drops: boolean) => {
      const t = fleet!.clients.filter((c) => c.dropsGratuitous === drops).map((c) => sum.repointMs.get(c.address)).filter((x): x is number => x !== undefined);
      return { n: t.length, ...(t.length ? { medianMs: Math.round(median(t) ?? NaN), maxMs: Math.round(Math.max(...t)) } : {}) };
    };
    row.byProfile = { stock: half(false), dropGratuitous: half(true) };
    if (process.env.HADIAG_SCALE_HOLD) {
      progress(`holding lab ${id} for inspection (${process.env.HADIAG_SCALE_HOLD} s)`);
      await sleep(Number(process.env.HADIAG_SCALE_HOLD) * 1000);
    }
    if (sum.repointed < clients) row.error = `${clients - sum.repointed} client(s) not re-pointed within ${fmtMs(o.maxWaitMs)}`;
  } catch (err) {
    row.error = (err as Error).message;
  } finally {
    if (capture?.pid) capture.kill('SIGTERM');
    await fleet?.remove();
    await lab0.destroyLab(id).catch(() => {});
  }
  return row;
}

/** Least-squares slope of y against x. */
function slope(pts: [number, number][]): number {
  const n = pts.length;
  const mx = pts.reduce((a, p) => a + p[0], 0) / n;
  const my = pts.reduce((a, p) => a + p[1], 0) / n;
  const sxx = pts.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return sxx ? pts.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0) / sxx : NaN;
}

/** Steady-state cost per client, per manager row and VIP count: the standby's and the holder's CPU and the new holder's RSS. */
export function steadySlopes(rows: ScaleRow[]) {
  const groups = new Map<string, ScaleRow[]>();
  for (const r of rows) {
    if (r.error) continue;
    const key = `${r.manager}\u0000${r.strategy}\u0000${r.vips}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()]
    .filter((g) => new Set(g.map((r) => r.clients)).size > 1)
    .map((g) => ({
      manager: g[0]!.manager,
      strategy: g[0]!.strategy,
      vips: g[0]!.vips,
      clients: [...new Set(g.map((r) => r.clients))],
      points: g.length,
      cpuMsPerSPerClient: slope(g.map((r) => [r.clients, r.steadyCpuMsPerS])),
      holderCpuMsPerSPerClient: slope(g.map((r) => [r.clients, r.holderCpuMsPerS])),
      rssMbPerClient: slope(g.map((r) => [r.clients, r.rssMb])),
    }));
}

export async function scaleBench(): Promise<void> {
  const clientCounts = list(flag('clients', '1,10,100,500')).map(Number);
  const vipCounts = list(flag('vips', '1')).map(Number);
  const managers = list(flag('managers', 'hadiag,hadiag-garp,heartbeat,keepalived'));
  const runs = Number(flag('runs', '1'));
  // the default row may need more runs than the anchors (the bar is a median over runs)
  const hadiagRuns = Number(flag('hadiag-runs', String(runs)));
  const runsOf = (m: string) => (m === 'hadiag' ? hadiagRuns : runs);
  const o = { timers: flag('timers', 'classic'), intervalMs: Number(flag('interval', '0')), maxWaitMs: parseDuration(flag('max-wait', '75s'), '--max-wait'), settleMs: parseDuration(flag('settle', '8s'), '--settle') };
  for (const m of managers) if (!ROWS[m]) throw new Error(`unknown row ${m}: use ${Object.keys(ROWS).join(', ')}`);
  if (!process.argv.includes('--no-build')) await runOk(['npm', 'run', '--silent', 'build'], { cwd: PROJECT_ROOT });
  // the lab from dist/: its hadiag manager then runs dist/effects/node/main.js (tsx would inflate CPU and RSS)
  const { lab, from } = await labModule();
  progress(`lab and hadiag node from ${from}`);
  const rows: ScaleRow[] = [];
  for (const vips of vipCounts) {
    for (const clients of clientCounts) {
      for (let run = 1; run <= Math.max(...managers.map(runsOf)); run++) {
        for (const m of managers.filter((x) => run <= runsOf(x))) {
          const r = await runOne(lab, m, clients, vips, run, o);
          rows.push(r);
          log(`  ${m.padEnd(11)} ${String(clients).padStart(4)} clients × ${String(vips).padStart(3)} VIPs: re-pointed ${r.pairsMeasured}/${clients}, median ${fmtMs(r.medianRepointMs ?? NaN)}, max ${fmtMs(r.maxRepointMs ?? NaN)}, ${r.framesSent} ARP frames, CPU ${r.cpuMs.toFixed(0)} ms (steady: standby ${r.steadyCpuMsPerS.toFixed(1)} ms/s, holder ${r.holderCpuMsPerS.toFixed(1)} ms/s), RSS ${r.rssMb} MB, ping every ${r.intervalMs} ms${r.byProfile ? ` [stock max ${fmtMs(r.byProfile.stock.maxMs ?? NaN)}, dropping GARP max ${fmtMs(r.byProfile.dropGratuitous.maxMs ?? NaN)}]` : ''}${r.peerDatagramBytes ? `, peer datagram ${r.peerDatagramBytes} B` : ''}, first frame ${fmtMs(r.firstFrameMs ?? NaN)}, load ${r.load1?.toFixed(1)}${Math.abs(r.clockStepMs ?? 0) > 20 ? `, clock step ${r.clockStepMs} ms corrected` : ''}${r.error ? ` — ${r.error}` : ''}`);
        }
      }
      const anchor = rows.filter((r) => r.clients === clients && r.vips === vips && r.manager === 'heartbeat' && r.maxRepointMs !== undefined);
      const ours = rows.filter((r) => r.clients === clients && r.vips === vips && r.manager === 'hadiag' && r.strategy === 'directed' && r.maxRepointMs !== undefined);
      if (anchor.length && ours.length) {
        const a = median(anchor.map((r) => r.maxRepointMs!)) ?? NaN;
        const h = median(ours.map((r) => r.maxRepointMs!)) ?? NaN;
        log(`  ${clients} clients × ${vips} VIPs: last client re-pointed (median over runs) after ${fmtMs(h)} with hadiag directed vs ${fmtMs(a)} with Heartbeat (${fmtRatio(ratio(h, a))}); bar deadtime + 100 ms = ${fmtMs(ours[0]!.deadtimeMs + 100)}`);
      }
    }
  }
  const slopes = steadySlopes(rows);
  for (const sl of slopes) log(`  steady state, ${sl.manager} (${sl.strategy}) × ${sl.vips} VIPs: standby CPU ${sl.cpuMsPerSPerClient.toFixed(3)} ms/s per client, holder ${sl.holderCpuMsPerSPerClient.toFixed(3)} ms/s per client, RSS ${(sl.rssMbPerClient * 1024).toFixed(1)} kB per client (least squares over ${sl.points} runs at ${sl.clients.join(', ')} clients)`);
  const file = writeResult('scale', { hadiagFrom: from, defaultStrategy: 'directed', intervalMs: o.intervalMs, timers: o.timers, slopes, rows });
  log(`scale → ${file}`);
  if (!process.argv.includes('--no-svg')) {
    const svg = flag('svg', `${PROJECT_ROOT}/docs/scale.svg`);
    writeFileSync(svg, renderScaleSvg(rows));
    log(`chart → ${svg}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await scaleBench();
