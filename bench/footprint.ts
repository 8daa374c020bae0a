/**
 * Bench (5): node footprint — RSS, PSS (/proc/PID/smaps_rollup) and CPU (utime + stime over a window) of
 * every process of a server node, hadiag run-node vs Heartbeat 3.0.6 (its 4 processes), at keepalive 1 s
 * (classic) and 100 ms, in the same lab layout. The hadiag node runs from dist/ (`npm run build`, done
 * here unless --no-build), as an installed node would: the TypeScript loader is not part of its footprint.
 *
 *   node --import tsx bench/footprint.ts [--window 30] [--timers classic,100ms/500ms] [--no-build]
 */
import { pathToFileURL } from 'node:url';
import { run } from '../src/effects/io/exec.js';
import { netnsPids } from '../src/effects/io/netns.js';
import { sleep } from '../src/core/clock.js';
import { REPO, flag, fmtRatio, labModule, log, progress, writeResult, type LabModule } from './lib.js';
import { comm, cpuMs, memory } from './proc.js';

interface NodeFigures {
  host: string;
  processes: { pid: number; cmd: string; rssKb: number; pssKb: number; cpuMs: number }[];
  rssKb: number;
  pssKb: number;
  cpuPercent: number;
}

interface Row {
  manager: string;
  timers: string;
  windowS: number;
  nodes: NodeFigures[];
  /** mean over the two servers */
  rssMb: number;
  pssMb: number;
  cpuPercent: number;
  error?: string;
}

async function measureLab(lab: LabModule, manager: string, timers: string, windowS: number): Promise<Row> {
  progress(`${manager} ${timers}: building the lab`);
  const state = await lab.upLab({ manager, timers, profiles: ['linux-default'], clients: 1 });
  try {
    await sleep(20_000); // steady state: past start-up work (resource scripts, initial GARPs) and the JIT's warm-up
    const servers = state.hosts.filter((h) => h.role === 'server');
    const before = new Map<number, number>();
    for (const s of servers) for (const pid of await netnsPids(s.netns)) before.set(pid, cpuMs(pid) ?? 0);
    progress(`${manager} ${timers}: sampling for ${windowS} s`);
    await sleep(windowS * 1000);
    const nodes: NodeFigures[] = [];
    for (const s of servers) {
      const procs: NodeFigures["processes"] = [];
      for (const pid of await netnsPids(s.netns)) {
        const m = memory(pid);
        const c = cpuMs(pid);
        if (!m || c === undefined) continue;
        procs.push({ pid, cmd: comm(pid), rssKb: m.rssKb, pssKb: m.pssKb, cpuMs: c - (before.get(pid) ?? c) });
      }
      const sum = (k: 'rssKb' | 'pssKb' | 'cpuMs') => procs.reduce((a, p) => a + p[k], 0);
      nodes.push({ host: s.name, processes: procs, rssKb: sum('rssKb'), pssKb: sum('pssKb'), cpuPercent: (sum('cpuMs') / (windowS * 1000)) * 100 });
    }
    const mean = (f: (n: NodeFigures) => number) => nodes.reduce((a, n) => a + f(n), 0) / nodes.length;
    return { manager, timers, windowS, nodes, rssMb: mean((n) => n.rssKb) / 1024, pssMb: mean((n) => n.pssKb) / 1024, cpuPercent: mean((n) => n.cpuPercent) };
  } finally {
    await lab.destroyLab(state.id);
  }
}

export async function footprintBench(): Promise<Row[]> {
  const windowS = Number(flag('window', '30'));
  const timersList = flag('timers', 'classic,100ms/500ms').split(',');
  if (!process.argv.includes('--no-build')) {
    progress('npm run build (the hadiag node runs from dist/)');
    const b = await run(['npm', 'run', 'build'], { cwd: REPO });
    if (b.code !== 0) progress(`build reported errors (dist/ may still be usable): ${(b.stdout + b.stderr).split('\n').find((l) => l.includes('error')) ?? ''}`);
  }
  const { lab, from } = await labModule();
  const rows: Row[] = [];
  for (const timers of timersList) {
    for (const manager of ['hadiag', 'heartbeat']) {
      try {
        rows.push(await measureLab(lab, manager, timers, windowS));
      } catch (err) {
        rows.push({ manager, timers, windowS, nodes: [], rssMb: NaN, pssMb: NaN, cpuPercent: NaN, error: (err as Error).message });
      }
    }
  }
  log(`node footprint per server node (mean of the two), ${windowS} s window; hadiag from ${from}`);
  log('  manager    timers        procs   RSS MB   PSS MB   CPU % of one core');
  for (const r of rows) {
    log(`  ${r.manager.padEnd(10)} ${r.timers.padEnd(12)} ${String(r.nodes[0]?.processes.length ?? 0).padStart(5)}  ${r.rssMb.toFixed(1).padStart(7)}  ${r.pssMb.toFixed(1).padStart(7)}  ${r.cpuPercent.toFixed(3).padStart(8)}${r.error ? `  [${r.error}]` : ''}`);
  }
  for (const timers of timersList) {
    const h = rows.find((r) => r.manager === 'hadiag' && r.timers === timers);
    const a = rows.find((r) => r.manager === 'heartbeat' && r.timers === timers);
    if (h && a) log(`  ratio hadiag / heartbeat (${timers}): RSS ${fmtRatio(h.rssMb / a.rssMb)}, PSS ${fmtRatio(h.pssMb / a.pssMb)}, CPU ${fmtRatio(h.cpuPercent / a.cpuPercent)}`);
  }
  const classic = rows.find((r) => r.manager === 'hadiag' && r.timers === 'classic');
  if (classic) log(`  target (RSS ≤ 60 MB, CPU ≤ 0.5 % at keepalive 1 s): ${classic.rssMb <= 60 && classic.cpuPercent <= 0.5 ? 'met' : 'NOT met'}`);
  const file = writeResult('footprint', { hadiagFrom: from, windowS, rows });
  log(`  results: ${file}`);
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  footprintBench().catch((err) => {
    process.stderr.write(`bench footprint: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
