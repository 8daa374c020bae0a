/**
 * measure-failover --watch for a long run (default 1 h, `--duration 5m` for a short one) at 5 ms probes in the
 * lab (keepalived, fast timers), with a failover every few minutes (lab fault link-down / link-up of the VIP
 * holder, `--every 3m`). The watch process's RSS is read from /proc at start (after 30 s), every minute and at
 * the end; the slope (KB per hour, least squares over the samples) says whether memory is flat.
 * Writes bench/results/watch-latest.json.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { upLab, destroyLab } from '../src/effects/lab/lab.js';
import { waitForVipHolder } from '../src/effects/lab/vip.js';
import { clients } from '../src/effects/lab/types.js';
import { run } from '../src/effects/io/exec.js';
import { moduleArgv, PROJECT_ROOT } from '../src/core/module-argv.js';
import { sleep } from '../src/core/clock.js';
import { parseDuration } from '../src/core/duration.js';
import { flag, log, writeResult } from './lib.js';

/** RSS in KB of the process whose command line runs hadiag's main (the node child of `ip netns exec`). */
function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

function slopeKbPerHour(samples: { tMs: number; kb: number }[]): number {
  const n = samples.length;
  if (n < 2) return NaN;
  const mt = samples.reduce((s, x) => s + x.tMs, 0) / n;
  const mk = samples.reduce((s, x) => s + x.kb, 0) / n;
  let num = 0;
  let den = 0;
  for (const x of samples) {
    num += (x.tMs - mt) * (x.kb - mk);
    den += (x.tMs - mt) ** 2;
  }
  return (num / den) * 3_600_000;
}

export async function watchBench(): Promise<Record<string, unknown>> {
  const durationMs = parseDuration(flag('duration', '1h'), 'duration');
  const everyMs = parseDuration(flag('every', '3m'), 'every');
  const lab = await upLab({ manager: 'keepalived', timers: 'fast', profiles: ['linux-default'], neigh: { base_reachable_time_ms: 2000, delay_first_probe_time: 1 } });
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-bench-watch-'));
  try {
    const c = clients(lab)[0]!;
    const [node, ...loader] = moduleArgv('cli/main');
    const entry = loader.pop()!;
    // exec replaces `ip netns exec` with node: the pid is the watcher's
    const child = spawn('ip', ['netns', 'exec', c.netns, node!, ...loader, '--input-type=module', '-e', `const m = await import(${JSON.stringify(entry)}); await m.main(process.argv.slice(1));`, '--', 'measure-failover', '--vip', lab.vip, '--interval', '5ms', '--watch', '--json', '--write', join(dir, 'w.pcap')], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
    const exited = new Promise<number | null>((r) => child.once('close', r));
    const start = Date.now();
    await sleep(30_000);
    const samples = [{ tMs: Date.now() - start, kb: rssKb(child.pid!) }];
    log(`watch: RSS at start ${samples[0]!.kb} KB`);
    let nextFault = start + 60_000;
    while (Date.now() - start < durationMs) {
      await sleep(Math.min(60_000, Math.max(1000, nextFault - Date.now())));
      if (Date.now() >= nextFault) {
        const holder = await waitForVipHolder(lab, 10_000);
        const h = lab.hosts.find((x) => x.name === holder)!;
        await run(['ip', '-n', h.netns, 'link', 'set', h.ifname, 'down']);
        await sleep(10_000);
        await run(['ip', '-n', h.netns, 'link', 'set', h.ifname, 'up']);
        nextFault += everyMs;
      }
      samples.push({ tMs: Date.now() - start, kb: rssKb(child.pid!) });
    }
    samples.push({ tMs: Date.now() - start, kb: rssKb(child.pid!) });
    child.kill('SIGTERM');
    const code = await exited;
    const docs = lines.map((l) => JSON.parse(l) as { type: string; durationMs?: number });
    const outages = docs.filter((d) => d.type === 'outage');
    const summary = docs.find((d) => d.type === 'summary');
    const first = samples[0]!.kb;
    const last = samples[samples.length - 1]!.kb;
    const peak = Math.max(...samples.map((s) => s.kb));
    const slope = slopeKbPerHour(samples);
    log(`watch: ${((Date.now() - start) / 60_000).toFixed(1)} min, ${outages.length} outages reported, exit ${code}; RSS start ${first} KB, end ${last} KB, peak ${peak} KB, slope ${slope.toFixed(0)} KB/h`);
    const result = { durationMs: Date.now() - start, outages: outages.length, outageMs: outages.map((o) => o.durationMs), exitCode: code, summary, rssKb: { start: first, end: last, peak, slopeKbPerHour: slope, samples } };
    writeResult('watch', result);
    return result;
  } finally {
    await destroyLab(lab.id);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await watchBench();
