/**
 * measure-failover --watch in the lab (keepalived, fast timers, shrunk client neighbour timers): two failovers
 * (the holder's link down, later the new holder's), two outage lines while it runs, SIGTERM ends it with the
 * summary line and exit 0/1; the rolling capture kept the segments around both outages. The truth is a
 * tcpdump on the client's bridge port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { upLab, destroyLab } from '../../src/effects/lab/lab.js';
import { waitForVipHolder } from '../../src/effects/lab/vip.js';
import { clients, type LabState } from '../../src/effects/lab/types.js';
import { killPid } from '../../src/effects/io/netns.js';
import { run } from '../../src/effects/io/exec.js';
import { moduleArgv, PROJECT_ROOT } from '../../src/core/module-argv.js';
import { sleep } from '../../src/core/clock.js';
import { readPcap } from '../../src/effects/io/pcap-file.js';
import { outagesFromPortCapture, startPortCapture } from './measure-helpers.js';

const SHRUNK = { base_reachable_time_ms: 2000, delay_first_probe_time: 1 };

/** hadiag measure-failover --watch as a process of its own, its stdout lines as they come. */
function startWatch(netns: string, args: string[]) {
  const [node, ...loader] = moduleArgv('cli/main');
  const entry = loader.pop()!;
  const child = spawn('ip', ['netns', 'exec', netns, node!, ...loader, '--input-type=module', '-e', `const m = await import(${JSON.stringify(entry)}); await m.main(process.argv.slice(1));`, '--', 'measure-failover', ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, lines, exited, stderr: () => stderr };
}

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

test('--watch: two failovers, two outage lines, SIGTERM ends it with a summary line; the ring kept both outages', { timeout: 240_000 }, async () => {
  const lab: LabState = await upLab({ manager: 'keepalived', timers: 'fast', profiles: ['linux-default'], neigh: SHRUNK });
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-measure-watch-'));
  let truthPid: number | undefined;
  let w: ReturnType<typeof startWatch> | undefined;
  try {
    const c = clients(lab)[0]!;
    assert.equal((await run(['ip', 'netns', 'exec', c.netns, 'ping', '-c', '1', '-W', '2', lab.vip])).code, 0);
    const portPcap = join(dir, 'port.pcap');
    truthPid = (await startPortCapture(lab.bridgeNetns, c.bridgePort, portPcap)).pid;
    w = startWatch(c.netns, ['--vip', lab.vip, '--interval', '5ms', '--watch', '--json', '--write', join(dir, 'w.pcap'), '--write-limit', '256KB']);
    // the first fault only once the probes cross the client's port (a slow start-up under load would miss it)
    const portBytes = () => (existsSync(portPcap) ? statSync(portPcap).size : 0);
    const before = portBytes();
    await until('the probes on the client port', () => portBytes() > before + 8192, 60_000);
    await sleep(1000);
    const outageLines = () => w!.lines.filter((l) => l.includes('"type":"outage"'));
    for (let i = 1; i <= 2; i++) {
      const holder = await waitForVipHolder(lab, 10_000);
      const h = lab.hosts.find((x) => x.name === holder)!;
      await run(['ip', '-n', h.netns, 'link', 'set', h.ifname, 'down']);
      await until(`outage line ${i}`, () => outageLines().length >= i, 60_000);
      await run(['ip', '-n', h.netns, 'link', 'set', h.ifname, 'up']);
      await sleep(8000); // the restored node settles (keepalived may take the VIP back: that outage is a line too)
    }
    w.child.kill('SIGTERM');
    const code = await w.exited;
    await killPid(truthPid!);
    truthPid = undefined;
    const docs = w.lines.map((l) => JSON.parse(l) as { type: string; [k: string]: unknown });
    const outages = docs.filter((d) => d.type === 'outage');
    const summary = docs[docs.length - 1]!;
    assert.ok(outages.length >= 2, `outage lines: ${outages.length}; stderr: ${w.stderr()}`);
    assert.equal(summary.type, 'summary', 'the last line is the summary');
    assert.equal(docs.filter((d) => d.type === 'summary').length, 1);
    assert.equal(summary.outages, outages.length);
    assert.equal(code, summary.problem ? 1 : 0, `exit ${code}`);
    const truth = await outagesFromPortCapture(portPcap, c.address, lab.vip);
    process.stderr.write(`# watch: ${outages.map((o) => `${(o.durationMs as number).toFixed(1)} ms ${(o.diagnosis as { cause: string }).cause}`).join(', ')}; truth ${truth.map((t) => t.durationMs.toFixed(1)).join(', ')} ms\n`);
    assert.equal(outages.length, truth.length, 'as many outages as the port capture shows');
    for (const [i, o] of outages.entries()) assert.ok(Math.abs((o.durationMs as number) - truth[i]!.durationMs) <= 15, `outage ${i + 1}: ${o.durationMs} vs ${truth[i]!.durationMs} ms`);
    // the ring: every outage's probes are in a kept segment; some segments were deleted
    const cap = summary.capture as { segments: string[]; kept: number };
    const onDisk = readdirSync(dir).filter((f) => /^w\.\d{4}\.pcap$/.test(f));
    assert.equal(onDisk.length, cap.segments.length);
    assert.ok(cap.kept >= 2);
    // (deleting the rolling part beyond the limit is test/unit/pcap-ring.test.ts's: here ±30 s covers the whole run)
    for (const o of outages) {
      let covered = false;
      for (const f of onDisk) if ((await readPcap(join(dir, f))).records.some((r) => Math.abs(r.tsMs - (o.startTsMs as number)) < 1000)) covered = true;
      assert.ok(covered, `outage at ${o.startTsMs} is in the kept capture`);
    }
  } finally {
    if (w && w.child.exitCode === null) w.child.kill('SIGKILL');
    if (truthPid) await killPid(truthPid);
    await destroyLab(lab.id);
    rmSync(dir, { recursive: true, force: true });
  }
});
