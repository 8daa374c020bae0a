/**
 * Soak: failover/failback cycles of hadiag run-node in one lab (fast timers, a separate heartbeat link and a
 * ping node with the built-in ipfail), the fault rotating every cycle — link down/up of the VIP holder, kill -9
 * of the holder + restart, SIGTERM of the holder + restart, partition/heal, the ping node unreachable from the
 * holder and back. After every cycle (once the fault is healed): within the heal window (deadtime + 1 s)
 * exactly one server holds the VIP (a double holder seen after it is counted), no VIP is left on a stopped
 * node (after SIGTERM, before the restart; after kill -9 once the node is back), and each run-node's RSS, open
 * file descriptors and capture handles (packet sockets) are sampled. Slopes per cycle are fitted within one
 * process lifetime (a restart starts a new series; series pooled, each with its own intercept).
 *
 *   node --import tsx bench/soak.ts --cycles 1000
 *
 * Writes bench/results/soak-latest.json {cycles, doubleHolders, staleVips, rssSlopeKbPerCycle, fdSlopePerCycle, …}.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { upLab, destroyLab } from '../src/effects/lab/lab.js';
import { applyFault, parseFault } from '../src/effects/lab/faults.js';
import { ifaceInfo, vipView } from '../src/effects/lab/vip.js';
import { getManager } from '../src/effects/lab/managers/index.js';
import { writeState } from '../src/effects/lab/state.js';
import { labHost, servers, type LabState } from '../src/effects/lab/types.js';
import { alive } from '../src/effects/io/netns.js';
import { sleep } from '../src/core/clock.js';
import { flag, log, progress, writeResult } from './lib.js';

/** how long after a healed cycle the processes are sampled */
const SAMPLE_SETTLE_MS = 500;

export const FAULT_ROTATION = ['link', 'kill', 'term', 'partition', 'ping'] as const;
type Fault = (typeof FAULT_ROTATION)[number];

export interface Sample {
  node: string;
  pid: number;
  /** which process lifetime of the node (a new one at every restart; a pid can come back much later) */
  life: number;
  cycle: number;
  rssKb: number;
  fds: number;
  captures: number;
}

export interface SoakResult {
  cycles: number;
  doubleHolders: number;
  staleVips: number;
  /** cycles whose heal window ended with no holder */
  noHolder: number;
  rssSlopeKbPerCycle: number;
  fdSlopePerCycle: number;
  captureSlopePerCycle: number;
  faults: Record<string, number>;
  /** worst heal time (heal → exactly one holder), ms */
  maxHealMs: number;
  problems: string[];
  samples: number;
  /** per process lifetime: node, pid, first/last cycle and figures (rssKb, fds, captures) */
  series: { node: string; pid: number; cycles: [number, number]; rssKb: [number, number]; fds: [number, number]; captures: [number, number] }[];
  durationS: number;
}

/** RSS (kB), open fds and packet sockets (libpcap handles) of a process, from /proc. */
export function procFigures(pid: number): { rssKb: number; fds: number; captures: number } | undefined {
  try {
    const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
    const links = readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
    const sockets = new Set(links.map((l) => /^socket:\[(\d+)\]$/.exec(l)?.[1]).filter(Boolean));
    const packet = readFileSync(`/proc/${pid}/net/packet`, 'utf8').trim().split('\n').slice(1);
    const captures = packet.filter((line) => sockets.has(line.trim().split(/\s+/).at(-1))).length;
    return { rssKb, fds: links.length, captures };
  } catch {
    return undefined;
  }
}

/**
 * The common slope of y over cycles across series (one per process lifetime), each series with its own
 * intercept: Σ(x−x̄ₛ)(y−ȳₛ) / Σ(x−x̄ₛ)². 0 when no series has two samples.
 */
export function pooledSlope(samples: Sample[], y: (s: Sample) => number): number {
  const series = groupBy(samples);
  let num = 0;
  let den = 0;
  for (const list of series.values()) {
    if (list.length < 2) continue;
    const mx = list.reduce((a, s) => a + s.cycle, 0) / list.length;
    const my = list.reduce((a, s) => a + y(s), 0) / list.length;
    for (const s of list) {
      num += (s.cycle - mx) * (y(s) - my);
      den += (s.cycle - mx) ** 2;
    }
  }
  return den ? num / den : 0;
}

async function holders(lab: LabState): Promise<string[]> {
  return (await vipView(lab)).holders;
}

/** Poll until exactly one holder (returns ms waited) or the deadline; undefined when it never came. */
async function untilOneHolder(lab: LabState, timeoutMs: number, not?: string): Promise<number | undefined> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const asked = Date.now(); // the state seen is at least as old as the start of the look (`ip` runs slowly under load)
    const h = await holders(lab);
    if (h.length === 1 && h[0] !== not) return asked - t0;
    await sleep(50);
  }
  return undefined;
}

/** Servers whose run-node is not running but whose interface still carries the VIP. */
async function vipOnStoppedNode(lab: LabState): Promise<string[]> {
  const out: string[] = [];
  for (const s of servers(lab)) {
    if (s.manager && alive(s.manager.pid)) continue;
    const r = await ifaceInfo(s);
    if (r?.addresses.some((a) => a.startsWith(`${lab.vip}/`))) out.push(s.name);
  }
  return out;
}

/** Start the node again and wait until it has started (its `start` line): the heal of kill -9 / SIGTERM. */
async function restart(lab: LabState, name: string): Promise<void> {
  const h = labHost(lab, name);
  for (let i = 0; i < 100 && h.manager && alive(h.manager.pid); i++) await sleep(50);
  h.manager = await getManager(lab.manager).start(lab, h);
  await writeState(lab);
  const pid = h.manager.pid;
  const logFile = h.manager.logs[0]!;
  for (let i = 0; i < 600; i++) {
    const text = (() => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    })();
    if (text.includes(`hadiag[${pid}] ${name}: INFO: start:`)) return;
    await sleep(50);
  }
}

export interface SoakOptions {
  cycles: number;
  onCycle?: (cycle: number, fault: Fault, healMs: number | undefined) => void;
  /** every `every` cycles: the result so far (slopes included), e.g. to write it down during a long run */
  checkpoint?: { every: number; fn: (partial: SoakResult) => void };
}

/** Run the soak in a fresh lab (torn down at the end, also on failure). */
export async function soak(o: SoakOptions): Promise<SoakResult> {
  const started = Date.now();
  const lab = await upLab({ manager: 'hadiag', timers: 'fast', heartbeatLink: 'separate', pingNode: true, neigh: { base_reachable_time_ms: 2000, delay_first_probe_time: 1 } });
  const healWindowMs = lab.timers.deadtimeMs + 1000;
  const r: SoakResult = { cycles: 0, doubleHolders: 0, staleVips: 0, noHolder: 0, rssSlopeKbPerCycle: 0, fdSlopePerCycle: 0, captureSlopePerCycle: 0, faults: {}, maxHealMs: 0, problems: [], samples: 0, series: [], durationS: 0 };
  const samples: Sample[] = [];
  const problem = (cycle: number, text: string) => {
    r.problems.push(`cycle ${cycle}: ${text}`);
    progress(`cycle ${cycle}: ${text}`);
  };
  try {
    for (let cycle = 1; cycle <= o.cycles; cycle++) {
      const fault = FAULT_ROTATION[(cycle - 1) % FAULT_ROTATION.length]!;
      r.faults[fault] = (r.faults[fault] ?? 0) + 1;
      // a settled start: one holder
      if ((await untilOneHolder(lab, 20_000)) === undefined) problem(cycle, `no single holder before the fault (${(await holders(lab)).join(', ') || 'none'})`);
      const holder = (await holders(lab))[0] ?? 'server1';
      const other = holder === 'server1' ? 'server2' : 'server1';
      await applyAndHeal(lab, fault, holder, other, cycle, r, problem);
      const healMs = await untilOneHolder(lab, healWindowMs);
      if (healMs === undefined) {
        const h = await holders(lab);
        if (h.length > 1) r.doubleHolders++;
        else r.noHolder++;
        problem(cycle, `${fault}: ${h.length} holder(s) ${healWindowMs} ms after the heal (${h.join(', ') || 'none'})`);
        await untilOneHolder(lab, 20_000);
      } else r.maxHealMs = Math.max(r.maxHealMs, healMs);
      // a double holder right after the window (the pair must stay settled)
      await sleep(200);
      if ((await holders(lab)).length > 1) {
        r.doubleHolders++;
        problem(cycle, `${fault}: two holders after the heal window`);
      }
      const stale = await vipOnStoppedNode(lab);
      if (stale.length) {
        r.staleVips++;
        problem(cycle, `${fault}: the VIP is on stopped ${stale.join(', ')}`);
      }
      await sleep(SAMPLE_SETTLE_MS); // figures at a quiet moment: no takeover's helpers or GARP rounds in flight
      for (const s of servers(lab)) {
        const pid = s.manager?.pid;
        const f = pid ? procFigures(pid) : undefined;
        if (!pid || !f) continue;
        const last = samples.findLast((x) => x.node === s.name);
        const life = !last ? 0 : last.pid === pid ? last.life : last.life + 1;
        samples.push({ node: s.name, pid, life, cycle, ...f });
      }
      r.cycles = cycle;
      o.onCycle?.(cycle, fault, healMs);
      if (o.checkpoint && cycle % o.checkpoint.every === 0) o.checkpoint.fn(finish({ ...r, problems: [...r.problems], series: [] }, samples, started));
    }
  } finally {
    await destroyLab(lab.id);
  }
  return finish(r, samples, started);
}

/** The slopes, the series and the duration, from the samples so far. */
function finish(r: SoakResult, samples: Sample[], started: number): SoakResult {
  r.samples = samples.length;
  for (const [key, list] of groupBy(samples)) {
    const [a, b] = [list[0]!, list.at(-1)!];
    r.series.push({ node: key.split('/')[0]!, pid: a.pid, cycles: [a.cycle, b.cycle], rssKb: [a.rssKb, b.rssKb], fds: [a.fds, b.fds], captures: [a.captures, b.captures] });
  }
  r.rssSlopeKbPerCycle = round(pooledSlope(samples, (s) => s.rssKb));
  r.fdSlopePerCycle = round(pooledSlope(samples, (s) => s.fds), 4);
  r.captureSlopePerCycle = round(pooledSlope(samples, (s) => s.captures), 4);
  r.durationS = Math.round((Date.now() - started) / 1000);
  return r;
}

function groupBy(samples: Sample[]): Map<string, Sample[]> {
  const m = new Map<string, Sample[]>();
  for (const s of samples) m.set(`${s.node}/${s.life}`, [...(m.get(`${s.node}/${s.life}`) ?? []), s]);
  return m;
}

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

/** One fault and its heal. */
async function applyAndHeal(lab: LabState, fault: Fault, holder: string, other: string, cycle: number, r: SoakResult, problem: (c: number, t: string) => void): Promise<void> {
  const moveMs = 15_000;
  const moved = async () => {
    if ((await untilOneHolder(lab, moveMs, holder)) === undefined) problem(cycle, `${fault}: the VIP did not move from ${holder} (${(await holders(lab)).join(', ') || 'none'})`);
  };
  switch (fault) {
    case 'link':
      await applyFault(lab, parseFault('client-link-down'), holder);
      await moved();
      await applyFault(lab, parseFault('link-up'), holder);
      break;
    case 'kill':
      await applyFault(lab, parseFault('kill'), holder);
      await untilOneHolderOn(lab, other, moveMs);
      await restart(lab, holder);
      break;
    case 'term': {
      await applyFault(lab, parseFault('term'), holder);
      const h = labHost(lab, holder);
      for (let i = 0; i < 200 && h.manager && alive(h.manager.pid); i++) await sleep(50);
      const stale = await vipOnStoppedNode(lab);
      if (stale.length) {
        r.staleVips++;
        problem(cycle, `term: ${holder} stopped with the VIP still on it`);
      }
      await moved();
      await restart(lab, holder);
      break;
    }
    case 'partition':
      await applyFault(lab, parseFault('partition'));
      await sleep(lab.timers.deadtimeMs + 500);
      await applyFault(lab, parseFault('heal'));
      break;
    case 'ping':
      await applyFault(lab, parseFault('ping-node-unreachable'), holder);
      await moved();
      await applyFault(lab, parseFault('ping-node-reachable'), holder);
      break;
  }
}

/** After kill -9 the killed node keeps the VIP on its interface: wait until the other one holds it too. */
async function untilOneHolderOn(lab: LabState, name: string, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs && !(await holders(lab)).includes(name)) await sleep(50);
}

async function main(): Promise<void> {
  const cycles = Number(flag('cycles', '20'));
  const t0 = Date.now();
  const res = await soak({
    cycles,
    onCycle: (c, f, heal) => {
      if (c % 10 === 0 || c === cycles) progress(`cycle ${c}/${cycles} (${f}, healed in ${heal ?? '—'} ms, ${Math.round((Date.now() - t0) / 1000)} s)`);
    },
    // a long run leaves its figures so far behind (soak-partial-latest.json) in case it is stopped
    checkpoint: { every: 50, fn: (partial) => writeResult('soak-partial', { ...partial, of: cycles }) },
  });
  log(`soak: ${res.cycles} cycles in ${res.durationS} s (${JSON.stringify(res.faults)}): double holders ${res.doubleHolders}, stale VIPs ${res.staleVips}, no holder ${res.noHolder}, worst heal ${res.maxHealMs} ms`);
  log(`slopes per cycle within a process lifetime: RSS ${res.rssSlopeKbPerCycle} kB, fds ${res.fdSlopePerCycle}, capture handles ${res.captureSlopePerCycle} (${res.samples} samples)`);
  writeResult('soak', { ...res });
  log('bench/results/soak-latest.json written');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
