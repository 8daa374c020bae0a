/**
 * Bench (5): node footprint — RSS, PSS (/proc/PID/smaps_rollup) and CPU (the scheduler's ns account of every
 * thread, bench/proc.ts cpuExactMs) of every process of a server node, hadiag run-node vs Heartbeat 3.0.6 (its
 * 4 processes), at keepalive 1 s (classic) and 100 ms, in the same lab layout, each row `--runs` times (medians).
 * The hadiag node runs from dist/ (`npm run build`, done here unless --no-build), as an installed node would.
 *
 * Measured in the same windows, outside the lab (root namespace, loopback only): the runtime floor — a Node
 * process that does nothing but a `setInterval` at the keepalive — and a Node process that sends one 300-byte UDP
 * datagram to itself every keepalive (the least I/O any heartbeat has), so the reader sees what part is Node's.
 *
 * Then the slope against clients: hadiag with N real client namespaces (src/effects/lab/fleet.ts, each pinging the
 * VIP once a second) for N in --clients, CPU and RSS of each server with the number of clients its book holds.
 *
 *   node --import tsx bench/footprint.ts [--window 30] [--settle 60] [--runs 3] [--timers classic,100ms/500ms]
 *                                        [--clients 0,100,500 | --clients none] [--no-build]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { run } from '../src/effects/io/exec.js';
import { netnsPids, newRunId } from '../src/effects/io/netns.js';
import { controlRequest } from '../src/effects/node/control.js';
import { Fleet } from '../src/effects/lab/fleet.js';
import { servers, type LabState } from '../src/effects/lab/types.js';
import { vipView } from '../src/effects/lab/vip.js';
import { median as medianOrUndefined } from '../src/core/stats.js';
import { sleep } from '../src/core/clock.js';
import { REPO, flag, fmtRatio, labModule, log, progress, writeResult, type LabModule } from './lib.js';
import { comm, cpuExactMs, memory } from './proc.js';

interface Proc {
  pid: number;
  cmd: string;
  rssKb: number;
  pssKb: number;
  cpuMs: number;
}

interface NodeFigures {
  host: string;
  processes: Proc[];
  rssKb: number;
  pssKb: number;
  cpuPercent: number;
  /** hadiag: clients in its book (status) at the end of the window */
  bookClients?: number;
}

interface Row {
  manager: string;
  timers: string;
  run: number;
  windowS: number;
  nodes: NodeFigures[];
  /** mean over the two servers */
  rssMb: number;
  pssMb: number;
  cpuPercent: number;
  /** the floors measured in the same window */
  floors: Record<FloorName, { cpuPercent: number; rssMb: number }>;
  error?: string;
}

interface SlopeRow {
  clients: number;
  timers: string;
  nodes: NodeFigures[];
  cpuPercent: number;
  rssMb: number;
  error?: string;
}

type FloorName = 'setInterval' | 'udp-self';

const KEEPALIVE_MS: Record<string, number> = { classic: 1000 };
const keepaliveOf = (timers: string): number => KEEPALIVE_MS[timers] ?? (Number(/^(\d+)ms/.exec(timers)?.[1]) || 1000);

/** The Node programs of the floors, started with `node -e` (root namespace, loopback). */
const FLOOR_SOURCES: Record<FloorName, (ms: number) => string> = {
  setInterval: (ms) => `setInterval(() => {}, ${ms});`,
  'udp-self': (ms) =>
    `const d = require('node:dgram'); const s = d.createSocket('udp4'); const b = Buffer.alloc(300, 0x41); let n = 0;` +
    `s.on('message', () => n++); s.bind(0, '127.0.0.1', () => setInterval(() => s.send(b, s.address().port, '127.0.0.1', (e) => { if (e) n--; }), ${ms}));`,
};

function startFloors(keepaliveMs: number): Map<FloorName, ChildProcess> {
  const m = new Map<FloorName, ChildProcess>();
  for (const [name, src] of Object.entries(FLOOR_SOURCES) as [FloorName, (ms: number) => string][]) {
    const p = spawn(process.execPath, ['-e', src(keepaliveMs)], { stdio: 'ignore' });
    p.on('error', () => {});
    m.set(name, p);
  }
  return m;
}

function stopFloors(floors: Map<FloorName, ChildProcess>): void {
  for (const p of floors.values()) if (p.exitCode === null) p.kill('SIGKILL');
}

/** CPU over one window of every process in each lab's server namespaces (and of `extra` pids), then RSS/PSS. */
async function sampleLabs(labs: LabState[], windowS: number, extra: number[] = []): Promise<{ nodes: NodeFigures[][]; extraCpuMs: Map<number, number> }> {
  const before = new Map<number, number>();
  for (const lab of labs) for (const s of servers(lab)) for (const pid of await netnsPids(s.netns)) before.set(pid, cpuExactMs(pid) ?? 0);
  for (const pid of extra) before.set(pid, cpuExactMs(pid) ?? 0);
  await sleep(windowS * 1000);
  const after = new Map<number, number>();
  for (const pid of [...before.keys()]) after.set(pid, cpuExactMs(pid) ?? NaN);
  const nodes: NodeFigures[][] = [];
  for (const lab of labs) {
    const perLab: NodeFigures[] = [];
    for (const s of servers(lab)) {
      const procs: Proc[] = [];
      for (const pid of await netnsPids(s.netns)) {
        const m = memory(pid);
        const c = after.get(pid) ?? cpuExactMs(pid);
        if (!m || c === undefined || Number.isNaN(c)) continue;
        procs.push({ pid, cmd: comm(pid), rssKb: m.rssKb, pssKb: m.pssKb, cpuMs: c - (before.get(pid) ?? c) });
      }
      const sum = (k: 'rssKb' | 'pssKb' | 'cpuMs') => procs.reduce((a, p) => a + p[k], 0);
      perLab.push({ host: s.name, processes: procs, rssKb: sum('rssKb'), pssKb: sum('pssKb'), cpuPercent: (sum('cpuMs') / (windowS * 1000)) * 100 });
    }
    nodes.push(perLab);
  }
  const extraCpuMs = new Map<number, number>();
  for (const pid of extra) extraCpuMs.set(pid, (after.get(pid) ?? NaN) - (before.get(pid) ?? 0));
  return { nodes, extraCpuMs };
}

const median = (xs: number[]): number => medianOrUndefined(xs) ?? NaN;
const meanOf = (nodes: NodeFigures[], f: (n: NodeFigures) => number): number => nodes.reduce((a, n) => a + f(n), 0) / nodes.length;

/** One lab per manager, up at the same time, sampled in the same window with the floors: load hits all alike. */
async function measureTogether(lab: LabModule, managers: string[], timers: string, runNo: number, o: { windowS: number; settleS: number }): Promise<Row[]> {
  const states: LabState[] = [];
  const floors = startFloors(keepaliveOf(timers));
  try {
    for (const manager of managers) {
      progress(`${manager} ${timers} run ${runNo}: building the lab`);
      states.push(await lab.upLab({ manager, timers, profiles: ['linux-default'], clients: 1 }));
    }
    await sleep(o.settleS * 1000); // past start-up work (resource scripts, initial GARPs) and most of the JIT's warm-up
    progress(`${managers.join(' + ')} ${timers} run ${runNo}: sampling for ${o.windowS} s`);
    const floorPids = [...floors.values()].map((p) => p.pid!).filter(Boolean);
    const { nodes, extraCpuMs } = await sampleLabs(states, o.windowS, floorPids);
    const floorFigures = {} as Row['floors'];
    for (const [name, p] of floors) floorFigures[name] = { cpuPercent: ((extraCpuMs.get(p.pid!) ?? NaN) / (o.windowS * 1000)) * 100, rssMb: (memory(p.pid!)?.rssKb ?? NaN) / 1024 };
    return managers.map((manager, i) => {
      const n = nodes[i]!;
      return { manager, timers, run: runNo, windowS: o.windowS, nodes: n, rssMb: meanOf(n, (x) => x.rssKb) / 1024, pssMb: meanOf(n, (x) => x.pssKb) / 1024, cpuPercent: meanOf(n, (x) => x.cpuPercent), floors: floorFigures };
    });
  } finally {
    stopFloors(floors);
    for (const st of states) await lab.destroyLab(st.id);
  }
}

/** hadiag with N real clients: each server's CPU, RSS and book size in steady state. */
async function measureSlope(lab: LabModule, clients: number, timers: string, o: { windowS: number; settleS: number }): Promise<SlopeRow> {
  const id = newRunId();
  const prefix = Math.min(24, 32 - Math.ceil(Math.log2(clients + 256 + 2)));
  progress(`slope: ${clients} clients (${timers}): lab ${id}`);
  const state = await lab.upLab({ manager: 'hadiag', timers, profiles: ['linux-default'], clients: 1, subnet: `198.18.0.0/${prefix}`, name: id });
  let fleet: Fleet | undefined;
  try {
    if (clients > 0) {
      fleet = await Fleet.add(state, { count: clients, vips: [state.vip], intervalMs: 1000, onProgress: (t) => progress(`slope: ${t}`) });
      fleet.startTraffic();
    }
    await sleep(o.settleS * 1000);
    const holders = (await vipView(state)).holders;
    progress(`slope: ${clients} clients: sampling for ${o.windowS} s (${holders.join(', ') || 'nobody'} holds the VIP)`);
    const nodes = (await sampleLabs([state], o.windowS)).nodes[0]!;
    for (const n of nodes) {
      const host = servers(state).find((s) => s.name === n.host)!;
      const st = await controlRequest(join(host.dir, 'hadiag-state'), 'status').catch(() => undefined);
      const book = st?.status?.clients;
      if (Array.isArray(book)) n.bookClients = book.length;
      n.host += holders.includes(n.host) ? ' (holder)' : '';
    }
    return { clients, timers, nodes, cpuPercent: meanOf(nodes, (n) => n.cpuPercent), rssMb: meanOf(nodes, (n) => n.rssKb) / 1024 };
  } finally {
    await fleet?.remove();
    await lab.destroyLab(state.id);
  }
}

/** Least-squares slope of y against x. */
function slope(xs: number[], ys: number[]): number {
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * (ys[i]! - my);
    den += (x - mx) ** 2;
  });
  return den === 0 ? NaN : num / den;
}

function printTable(rows: Row[], timersList: string[]): void {
  const ok = rows.filter((r) => !r.error);
  log('  manager          timers        runs  procs   RSS MB   PSS MB   CPU % of one core (median; runs)');
  for (const timers of timersList) {
    for (const manager of ['hadiag', 'heartbeat']) {
      const rs = ok.filter((r) => r.manager === manager && r.timers === timers);
      if (!rs.length) continue;
      log(`  ${manager.padEnd(16)} ${timers.padEnd(12)} ${String(rs.length).padStart(4)}  ${String(rs[0]!.nodes[0]?.processes.length ?? 0).padStart(5)}  ${median(rs.map((r) => r.rssMb)).toFixed(1).padStart(7)}  ${median(rs.map((r) => r.pssMb)).toFixed(1).padStart(7)}  ${median(rs.map((r) => r.cpuPercent)).toFixed(3).padStart(8)}  (${rs.map((r) => r.cpuPercent.toFixed(3)).join(' ')})`);
    }
    const inWindows = ok.filter((r) => r.timers === timers);
    for (const f of Object.keys(FLOOR_SOURCES) as FloorName[]) {
      if (!inWindows.length) continue;
      const cpu = median(inWindows.map((r) => r.floors[f].cpuPercent));
      const rss = median(inWindows.map((r) => r.floors[f].rssMb));
      const windows = new Set(inWindows.map((r) => r.run)).size;
      log(`  ${`node ${f}`.padEnd(16)} ${timers.padEnd(12)} ${String(windows).padStart(4)}      1  ${rss.toFixed(1).padStart(7)}        –  ${cpu.toFixed(3).padStart(8)}  (floor, same windows)`);
    }
  }
  for (const timers of timersList) {
    const h = ok.filter((r) => r.manager === 'hadiag' && r.timers === timers);
    const a = ok.filter((r) => r.manager === 'heartbeat' && r.timers === timers);
    if (!h.length || !a.length) continue;
    const byRun = h.map((r) => a.find((x) => x.run === r.run)).map((x, i) => (x ? h[i]!.cpuPercent / x.cpuPercent : NaN)).filter(Number.isFinite);
    const floor = median(ok.filter((r) => r.timers === timers).map((r) => r.floors.setInterval.cpuPercent));
    const hc = median(h.map((r) => r.cpuPercent));
    const ac = median(a.map((r) => r.cpuPercent));
    log(`  ratio hadiag / heartbeat (${timers}): CPU ${fmtRatio(hc / ac)} (per run ${byRun.map((x) => x.toFixed(2)).join(' ')}), RSS ${fmtRatio(median(h.map((r) => r.rssMb)) / median(a.map((r) => r.rssMb)))}, PSS ${fmtRatio(median(h.map((r) => r.pssMb)) / median(a.map((r) => r.pssMb)))}; hadiag above the setInterval floor: ${(hc - floor).toFixed(3)} % (the floor is ${fmtRatio(floor / ac)} of heartbeat's CPU)`);
  }
  for (const r of rows.filter((x) => x.error)) log(`  ${r.manager} ${r.timers} run ${r.run}: ${r.error}`);
}

function printSlope(rows: SlopeRow[]): { cpuPer100: number; rssMbPer100: number } {
  log('  slope against clients (hadiag, real client namespaces pinging the VIP once a second)');
  log('  clients  timers      CPU %    RSS MB   per server: CPU % / RSS MB / clients in book');
  for (const r of rows) {
    const per = r.nodes.map((n) => `${n.host} ${n.cpuPercent.toFixed(3)} / ${(n.rssKb / 1024).toFixed(1)} / ${n.bookClients ?? '?'}`).join('; ');
    log(`  ${String(r.clients).padStart(7)}  ${r.timers.padEnd(10)} ${Number.isFinite(r.cpuPercent) ? r.cpuPercent.toFixed(3).padStart(6) : '   n/a'}  ${Number.isFinite(r.rssMb) ? r.rssMb.toFixed(1).padStart(7) : '    n/a'}   ${r.error ?? per}`);
  }
  const ok = rows.filter((r) => !r.error);
  const cpuPer100 = slope(ok.map((r) => r.clients), ok.map((r) => r.cpuPercent)) * 100;
  const rssMbPer100 = slope(ok.map((r) => r.clients), ok.map((r) => r.rssMb)) * 100;
  if (ok.length >= 2) log(`  least-squares slope per 100 clients: CPU ${cpuPer100.toFixed(4)} %-points, RSS ${rssMbPer100.toFixed(2)} MB`);
  return { cpuPer100, rssMbPer100 };
}

export async function footprintBench(): Promise<Row[]> {
  const windowS = Number(flag('window', '30'));
  const settleS = Number(flag('settle', '60'));
  const runs = Number(flag('runs', '3'));
  const timersList = flag('timers', 'classic,100ms/500ms').split(',');
  const clientsFlag = flag('clients', '0,100,500');
  const clientCounts = clientsFlag === 'none' ? [] : clientsFlag.split(',').map(Number);
  if (!process.argv.includes('--no-build')) {
    progress('npm run build (the hadiag node runs from dist/)');
    const b = await run(['npm', 'run', 'build'], { cwd: REPO });
    if (b.code !== 0) progress(`build reported errors (dist/ may still be usable): ${(b.stdout + b.stderr).split('\n').find((l) => l.includes('error')) ?? ''}`);
  }
  const { lab, from } = await labModule();
  const rows: Row[] = [];
  const managers = ['hadiag', 'heartbeat'];
  for (let runNo = 1; runNo <= runs; runNo++) {
    for (const timers of timersList) {
      try {
        rows.push(...(await measureTogether(lab, managers, timers, runNo, { windowS, settleS })));
      } catch (err) {
        for (const manager of managers) rows.push({ manager, timers, run: runNo, windowS, nodes: [], rssMb: NaN, pssMb: NaN, cpuPercent: NaN, floors: {} as Row['floors'], error: (err as Error).message });
      }
    }
  }
  const slopeRows: SlopeRow[] = [];
  for (const n of clientCounts) {
    try {
      slopeRows.push(await measureSlope(lab, n, timersList[0]!, { windowS, settleS }));
    } catch (err) {
      slopeRows.push({ clients: n, timers: timersList[0]!, nodes: [], cpuPercent: NaN, rssMb: NaN, error: (err as Error).message });
    }
  }
  log(`node footprint per server node (mean of the two), ${windowS} s window after ${settleS} s, ${runs} run(s); hadiag from ${from}`);
  printTable(rows, timersList);
  const slopes = slopeRows.length ? printSlope(slopeRows) : undefined;
  const classic = rows.filter((r) => r.manager === 'hadiag' && r.timers === 'classic' && !r.error);
  if (classic.length) {
    const cpu = median(classic.map((r) => r.cpuPercent));
    const rss = median(classic.map((r) => r.rssMb));
    log(`  target (RSS ≤ 60 MB, CPU ≤ 0.5 % at keepalive 1 s): ${rss <= 60 && cpu <= 0.5 ? 'met' : 'NOT met'}`);
  }
  const file = writeResult('footprint', { hadiagFrom: from, windowS, settleS, runs, rows, slope: { rows: slopeRows, ...slopes } });
  log(`  results: ${file}`);
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  footprintBench().catch((err) => {
    process.stderr.write(`bench footprint: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
