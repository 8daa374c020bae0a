/**
 * Bench (4): capture-and-decode rate of the packet layer (cap + decodeFrame, src/effects/io/capture.ts) against
 * `tcpdump -w /dev/null` on the same UDP flood, in two namespaces on a bridge. For each rate, one flood
 * with both capturers running side by side on the receiver (the same frames, the same machine). Counted:
 * frames the receiver's interface got (ip -s link; it includes a few non-flood frames such as ARP), flood frames
 * each capturer delivered (dropped = flood frames sent − delivered), its CPU time.
 * Target (issue 3): ≥ 0.5 × tcpdump with no drops at 20 kpps.
 */
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Topology, labMac, nsSpawn, killPid } from '../src/effects/io/netns.js';
import { sleep } from '../src/core/clock.js';
import { runOk } from '../src/effects/io/exec.js';
import { REPO, flag, fmtRatio, log, progress, writeResult } from './lib.js';
import { cpuMs } from './proc.js';

const TSX = pathToFileURL(join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;
const PORT = 9999;
const FILTER = `udp and dst port ${PORT}`;

async function rxPackets(topo: Topology): Promise<number> {
  const h = topo.host('rcv');
  const j = JSON.parse(await runOk(['ip', '-n', h.netns, '-json', '-s', 'link', 'show', 'dev', h.ifname])) as { stats64: { rx: { packets: number } } }[];
  return j[0]!.stats64.rx.packets;
}

async function runFlood(topo: Topology, rate: number, durationMs: number): Promise<{ sent: number; rate: number; errors: number }> {
  const out = await runOk([
    'ip', 'netns', 'exec', topo.host('snd').netns, process.execPath, '--import', TSX, join(REPO, 'src/effects/forge/main.ts'),
    '--to', '198.18.0.2', '--port', String(PORT), '--udp-size', '64', '--rate', String(rate), '--duration', `${durationMs}ms`,
  ], { timeoutMs: durationMs + 30_000 });
  return JSON.parse(out.trim().split('\n').pop()!);
}

interface Phase {
  tool: 'hadiag' | 'tcpdump';
  rate: number;
  sent: number;
  achievedRate: number;
  wire: number;
  captured: number;
  dropped: number;
  fraction: number;
  cpuMs: number;
  framesPerCpuS: number;
}

/** Both capturers on the receiver at once, one flood: they see exactly the same frames and share the machine. */
async function phase(topo: Topology, rate: number, durationMs: number): Promise<Phase[]> {
  const h = topo.host('rcv');
  const worker = nsSpawn(h.netns, [process.execPath, '--import', TSX, join(REPO, 'bench/capture-worker.ts'), h.ifname, FILTER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: worker.stdout! })[Symbol.asyncIterator]();
  const td = nsSpawn(h.netns, ['tcpdump', '-i', h.ifname, '-n', '-B', '8192', '-w', '/dev/null', FILTER], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  td.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  try {
    const first = await lines.next();
    if (first.value !== 'ready') throw new Error(`capture worker: ${first.value}`);
    for (let i = 0; i < 100 && !err.includes('listening'); i++) await sleep(50);
    await sleep(300);
    const rx0 = await rxPackets(topo);
    const f = await runFlood(topo, rate, durationMs);
    await sleep(1000);
    const wire = (await rxPackets(topo)) - rx0;
    const tdCpu = cpuMs(td.pid!) ?? NaN;
    const tdExit = new Promise((r) => td.on('exit', r));
    td.kill('SIGINT');
    await Promise.race([tdExit, sleep(3000)]);
    const tdCaptured = Number(/(\d+) packets? captured/.exec(err)?.[1] ?? NaN);
    worker.kill('SIGUSR2');
    const w = JSON.parse(String((await lines.next()).value)) as { received: number; decoded: number; udp: number; cpuMs: number };
    const mk = (tool: Phase['tool'], captured: number, cpu: number): Phase => ({
      tool, rate, sent: f.sent, achievedRate: f.rate, wire, captured, dropped: Math.max(0, f.sent - captured), fraction: captured / f.sent, cpuMs: cpu, framesPerCpuS: captured / (cpu / 1000),
    });
    return [mk('hadiag', w.udp, w.cpuMs), mk('tcpdump', tdCaptured, tdCpu)];
  } finally {
    await killPid(worker.pid!, 500);
    await killPid(td.pid!, 500);
  }
}

export async function captureRateBench(): Promise<Record<string, unknown>> {
  const rates = flag('rates', '20000,50000,100000').split(',').map(Number);
  const durationMs = Number(flag('seconds', '5')) * 1000;
  const topo = await Topology.create({ hosts: [{ name: 'snd', addresses: ['198.18.0.1/24'], mac: labMac(1) }, { name: 'rcv', addresses: ['198.18.0.2/24'], mac: labMac(2) }] });
  const phases: Phase[] = [];
  try {
    // a static neighbour entry: no ARP inside the flood
    await runOk(['ip', '-n', topo.host('snd').netns, 'neigh', 'replace', '198.18.0.2', 'lladdr', labMac(2), 'dev', topo.host('snd').ifname, 'nud', 'permanent']);
    for (const rate of rates) {
      progress(`flood ${rate} datagrams/s for ${durationMs / 1000} s, hadiag's capture and tcpdump -w /dev/null side by side`);
      phases.push(...(await phase(topo, rate, durationMs)));
    }
  } finally {
    await topo.teardown();
  }
  log('capture-and-decode rate: hadiag (cap + decodeFrame) vs tcpdump -w /dev/null, 106-byte UDP frames');
  log('  asked/s   achieved/s  tool     on wire   captured  dropped  fraction  CPU ms  frames/CPU-s');
  const rows = [];
  for (const rate of rates) {
    const a = phases.find((p) => p.rate === rate && p.tool === 'hadiag')!;
    const b = phases.find((p) => p.rate === rate && p.tool === 'tcpdump')!;
    for (const p of [a, b]) {
      log(`  ${String(rate).padStart(7)}  ${p.achievedRate.toFixed(0).padStart(10)}  ${p.tool.padEnd(7)}  ${String(p.wire).padStart(8)}  ${String(p.captured).padStart(8)}  ${String(p.dropped).padStart(7)}  ${(p.fraction * 100).toFixed(2).padStart(7)} %  ${p.cpuMs.toFixed(0).padStart(6)}  ${p.framesPerCpuS.toFixed(0).padStart(10)}`);
    }
    const r = { rate, captureRatio: a.fraction / b.fraction, efficiencyRatio: a.framesPerCpuS / b.framesPerCpuS };
    rows.push(r);
    log(`  → at ${rate}/s: hadiag captured ${fmtRatio(r.captureRatio)} of what tcpdump captured; per CPU second it decodes ${fmtRatio(r.efficiencyRatio)} tcpdump's rate`);
  }
  const at20 = phases.find((p) => p.tool === 'hadiag' && p.rate === 20000);
  const target = at20 ? { rate: 20000, noDrops: at20.dropped === 0, ratioAtLeastHalf: (rows.find((r) => r.rate === 20000)?.captureRatio ?? 0) >= 0.5 } : undefined;
  if (target) log(`  target (≥ 0.5 × tcpdump, no drops at 20 kpps): ${target.noDrops && target.ratioAtLeastHalf ? 'met' : 'NOT met'}`);
  const file = writeResult('capture-rate', { frameBytes: 106, durationMs, phases, ratios: rows, target });
  log(`  results: ${file}`);
  return { phases, ratios: rows };
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  captureRateBench().catch((err) => {
    process.stderr.write(`bench capture-rate: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
