/**
 * Bench (3): accuracy of `hadiag measure-failover` against an independent truth — a tcpdump the bench
 * starts itself on the client's bridge port (kernel timestamps), not started by hadiag. For each probe
 * interval (5 ms and 1 ms), N failovers at the real default timers (classic): the VIP holder's link goes
 * down as measure-failover's --trigger; the error is hadiag's outage minus the port capture's outage
 * (first unanswered echo request → first reply). Target (issue 6): |error| ≤ one probe interval.
 *
 *   node --import tsx bench/measure-accuracy.ts [--failovers 10] [--intervals 5,1] [--manager keepalived]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { upLab, destroyLab } from '../src/effects/lab/lab.js';
import { applyFault, parseFault } from '../src/effects/lab/faults.js';
import { waitForVipHolder, vipView } from '../src/effects/lab/vip.js';
import { clients, type LabState } from '../src/effects/lab/types.js';
import { killPid } from '../src/effects/io/netns.js';
import { sleep } from '../src/core/clock.js';
import { runHadiag as hadiag } from '../src/effects/lab/hadiag-cli.js';
import { outagesFromPortCapture, startPortCapture } from '../src/effects/lab/port-truth.js';
import { flag, fmtMs, log, progress, summarize, writeResult } from './lib.js';

interface Sample {
  intervalMs: number;
  hadiagMs: number;
  truthMs: number;
  errorMs: number;
}

async function home(lab: LabState): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const v = await vipView(lab);
    if (v.holders.length === 1 && v.holders[0] === 'server1' && v.stale.length === 0) return;
    await sleep(100);
  }
  throw new Error('the VIP did not come back to server1');
}

async function oneFailover(lab: LabState, intervalMs: number, dir: string, i: number): Promise<Sample> {
  const c = clients(lab)[0]!;
  const portPcap = join(dir, `port-${intervalMs}-${i}.pcap`);
  const truth = await startPortCapture(lab.bridgeNetns, c.bridgePort, portPcap);
  try {
    const holder = await waitForVipHolder(lab, 10_000);
    const h = lab.hosts.find((x) => x.name === holder)!;
    const res = await hadiag(c.netns, ['measure-failover', '--vip', lab.vip, '--interval', `${intervalMs}ms`, '--trigger', `ip -n ${h.netns} link set ${h.ifname} down`, '--timeout', '60s', '--json'], 120_000);
    await killPid(truth.pid);
    const doc = JSON.parse(res.stdout);
    const [t] = await outagesFromPortCapture(portPcap, c.address, lab.vip);
    const o = doc.outages[0];
    if (!o || o.durationMs === undefined) throw new Error(`measure-failover found no outage: ${doc.summary}`);
    return { intervalMs, hadiagMs: o.durationMs, truthMs: t!.durationMs, errorMs: o.durationMs - t!.durationMs };
  } finally {
    await killPid(truth.pid);
    lab.lastLinkDown = 'server1';
    await applyFault(lab, parseFault('link-up'), 'server1');
    await home(lab);
    await sleep(2000);
  }
}

export async function measureAccuracyBench(): Promise<Record<string, unknown>> {
  const failovers = Number(flag('failovers', '10'));
  const intervals = flag('intervals', '5,1').split(',').map(Number);
  const manager = flag('manager', 'keepalived');
  progress(`${manager} classic: building the lab (client linux-default, real timers)`);
  const lab = await upLab({ manager, timers: 'classic', profiles: ['linux-default'], clients: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-bench-measure-'));
  const samples: Sample[] = [];
  const errors: string[] = [];
  try {
    for (const intervalMs of intervals) {
      for (let i = 0; i < failovers; i++) {
        try {
          const s = await oneFailover(lab, intervalMs, dir, i);
          samples.push(s);
          progress(`${intervalMs} ms probes, failover ${i + 1}/${failovers}: hadiag ${fmtMs(s.hadiagMs)}, truth ${fmtMs(s.truthMs)}, error ${s.errorMs.toFixed(2)} ms`);
        } catch (err) {
          errors.push(`${intervalMs} ms #${i + 1}: ${(err as Error).message}`);
          progress(errors.at(-1)!);
        }
      }
    }
  } finally {
    await destroyLab(lab.id);
    rmSync(dir, { recursive: true, force: true });
  }
  log(`measure-failover accuracy vs the client's bridge-port capture (${manager}, classic timers, link-down of the holder)`);
  const rows = intervals.map((intervalMs) => {
    const s = samples.filter((x) => x.intervalMs === intervalMs);
    const abs = summarize(s.map((x) => Math.abs(x.errorMs)));
    const within = s.filter((x) => Math.abs(x.errorMs) <= intervalMs).length;
    log(`  ${intervalMs} ms probes: n=${s.length}, |error| median ${abs.median.toFixed(2)} ms, p95 ${abs.p95.toFixed(2)} ms, max ${abs.max.toFixed(2)} ms; within one interval: ${within}/${s.length}; outage median ${fmtMs(summarize(s.map((x) => x.truthMs)).median)}`);
    return { intervalMs, n: s.length, absError: abs, withinOneInterval: within, ratioErrorToInterval: abs.median / intervalMs };
  });
  const file = writeResult('measure-accuracy', { manager, timers: 'classic', samples, rows, errors });
  log(`  results: ${file}`);
  return { rows };
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  measureAccuracyBench().catch((err) => {
    process.stderr.write(`bench measure-accuracy: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
