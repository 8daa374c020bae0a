/**
 * capture-scale: the offline analysers on a long client capture (capture-scale-gen.ts writes it: 5 ms probes
 * and replies, ARP exchanges, failovers with GARPs, Heartbeat on udp/694). Each of `hadiag garp-check --read`,
 * `measure-failover --read` and `hb-inspect --read` (from dist/) is timed with its peak RSS (/usr/bin/time -v),
 * next to `tcpdump -nr FILE > /dev/null` on the same file as the anchor. Targets: ≤ 10 s and ≤ 300 MB each.
 * A second, probes-only capture of 120 000 probes gives the garp-check figure of the issue.
 *
 *   node --import tsx bench/capture-scale.ts [--frames 1000000] [--probes 120000] [--dir /tmp]
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { flag, log, writeResult } from './lib.js';
import { SCALE_VIP, writeScaleCapture, type ScaleCapture } from './capture-scale-gen.js';

const HADIAG = join(import.meta.dirname, '..', 'bin', 'hadiag.js');
const TARGET_S = 10;
const TARGET_MB = 300;

interface Run {
  name: string;
  seconds: number;
  peakRssMb: number;
  exit: number | null;
  framesPerS: number;
  vsTcpdump?: { time: number; rss: number };
  withinTarget?: boolean;
}

/** Run `argv` under /usr/bin/time -v with stdout discarded: wall time and peak RSS. */
function measure(name: string, argv: string[], frames: number): Run {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-v', ...argv], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? NaN);
  const exit = Number(/Exit status: (\d+)/.exec(r.stderr)?.[1] ?? r.status);
  if (exit >= 2) log(`  ${name}: exit ${exit}: ${r.stderr.split('\n').find((l) => l.startsWith('hadiag')) ?? r.stderr.slice(0, 200)}`);
  return { name, seconds, peakRssMb: kb / 1024, exit, framesPerS: frames / seconds };
}

function table(runs: Run[]): void {
  log(`  ${'command'.padEnd(28)} ${'time'.padStart(8)} ${'frames/s'.padStart(11)} ${'peak RSS'.padStart(10)}  vs tcpdump (time, RSS)  exit`);
  for (const r of runs) {
    const vs = r.vsTcpdump ? `${r.vsTcpdump.time.toFixed(1)}×, ${r.vsTcpdump.rss.toFixed(1)}×` : 'anchor';
    const mark = r.withinTarget === undefined ? '' : r.withinTarget ? '  ok' : '  OVER TARGET';
    log(`  ${r.name.padEnd(28)} ${r.seconds.toFixed(2).padStart(7)}s ${Math.round(r.framesPerS).toString().padStart(11)} ${r.peakRssMb.toFixed(1).padStart(7)} MB  ${vs.padEnd(22)} ${r.exit}${mark}`);
  }
}

async function scale(path: string, capture: ScaleCapture, commands: Record<string, string[]>): Promise<Run[]> {
  const anchor = measure('tcpdump -nr', ['tcpdump', '-nr', path], capture.frames);
  const runs = [anchor];
  for (const [name, args] of Object.entries(commands)) {
    const r = measure(name, ['node', HADIAG, ...args], capture.frames);
    r.vsTcpdump = { time: r.seconds / anchor.seconds, rss: r.peakRssMb / anchor.peakRssMb };
    r.withinTarget = r.seconds <= TARGET_S && r.peakRssMb <= TARGET_MB;
    runs.push(r);
  }
  table(runs);
  return runs;
}

export async function captureScaleBench(): Promise<Record<string, unknown>> {
  const frames = Number(flag('frames', '1000000'));
  const probes = Number(flag('probes', '120000'));
  const dir = flag('dir', '/tmp');
  const big = join(dir, `hadiag-capture-scale-${process.pid}.pcap`);
  const small = join(dir, `hadiag-capture-scale-probes-${process.pid}.pcap`);
  try {
    log(`  writing ${frames} frames to ${big}…`);
    const capture = await writeScaleCapture(big, { frames });
    log(`  ${capture.frames} frames (${capture.probes} probes, ${capture.failovers} failovers, ${capture.heartbeats} heartbeats), ${(capture.bytes / 1e6).toFixed(1)} MB, ${(capture.spanMs / 60000).toFixed(1)} min`);
    const runs = await scale(big, capture, {
      'garp-check --read': ['garp-check', '--read', big, '--vip', SCALE_VIP],
      'measure-failover --read': ['measure-failover', '--read', big, '--vip', SCALE_VIP],
      'hb-inspect --read': ['hb-inspect', '--read', big],
      'garp-check --read --json': ['garp-check', '--read', big, '--vip', SCALE_VIP, '--json'],
    });
    log(`  writing the probes-only capture (${probes} probes)…`);
    const probeCapture = await writeScaleCapture(small, { frames: probes * 2, probesOnly: true });
    log(`  ${probeCapture.frames} frames, ${(probeCapture.bytes / 1e6).toFixed(1)} MB`);
    const probeRuns = await scale(small, probeCapture, { 'garp-check --read (120k)': ['garp-check', '--read', small, '--vip', SCALE_VIP] });
    const result = { frames, capture, runs, probesOnly: { capture: probeCapture, runs: probeRuns }, targets: { seconds: TARGET_S, peakRssMb: TARGET_MB } };
    log(`  → ${writeResult('capture-scale', result)}`);
    return result;
  } finally {
    rmSync(big, { force: true });
    rmSync(small, { force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  void captureScaleBench();
}
