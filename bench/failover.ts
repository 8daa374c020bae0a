/**
 * Bench (1) and (2): failover and failback outage seen by a client pinging the VIP every 5 ms, for each
 * manager (hadiag, heartbeat 3.0.6, keepalived) in the same lab layout with the same timers. A run =
 * server1's link goes down (failover to server2), then comes back (failback to server1, auto_failback on /
 * VRRP preempt). The outage is the client's longest silence after each fault (ping -D -O, µs stamps).
 *
 *   node --import tsx bench/failover.ts [--managers hadiag,hadiag-equal,heartbeat,keepalived]
 *        [--timers classic,100ms/500ms] [--runs 5] [--profile linux-default] [--no-failback]
 *
 * `hadiag-equal` is hadiag with deadtime set to keepalived's master-down interval for the same advert interval
 * (equal detection), so its ratio to keepalived measures the takeover path, not the timer choice. Every row
 * also reports its takeover overhead: from the old holder's last heartbeat/advert seen on the wire (a capture
 * on server2) to the client's first reply, minus the manager's detection time (deadtime; keepalived's
 * master-down interval).
 *
 * With `--profile garp-filtered` (nft drops every gratuitous ARP for the VIP) it is bench (2): outage
 * against a GARP-dropping client, each manager with its own default announcements.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { upLab, destroyLab } from '../src/effects/lab/lab.js';
import { applyFault, parseFault } from '../src/effects/lab/faults.js';
import { Pinger } from '../src/effects/lab/pinger.js';
import { vipView, waitForVipHolder } from '../src/effects/lab/vip.js';
import { clients, labHost, type LabState } from '../src/effects/lab/types.js';
import { startPortCapture } from '../src/effects/lab/port-truth.js';
import { run as exec } from '../src/effects/io/exec.js';
import { killPid } from '../src/effects/io/netns.js';
import { sleep } from '../src/core/clock.js';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_DIR, flag, fmtMs, fmtRatio, log, progress, ratio, summarize, writeResult, type Summary } from './lib.js';
import { nowMs } from '../src/core/clock.js';

const MIN_OUTAGE_MS = 50;

/** keepalived's master-down interval for an advert interval: 3 × advert + skew, the backup at priority 100. */
export const masterDownMs = (advertMs: number): number => Math.round(3 * advertMs + ((256 - 100) / 256) * advertMs);

/** The keepalive of a timer text: classic and fast are the lab's presets. */
function keepaliveOf(timers: string): number | undefined {
  if (timers === 'classic') return 1000;
  if (timers === 'fast') return 200;
  const m = /^(\d+)ms\//.exec(timers);
  return m ? Number(m[1]) : undefined;
}

/**
 * The lab's timer text for a manager: keepalived derives its master-down time from advert_int (3 × + skew);
 * hadiag-equal gets that master-down time as its deadtime.
 */
export function timersFor(manager: string, timers: string): string {
  const k = keepaliveOf(timers);
  if (manager === 'hadiag-equal' && k !== undefined) return `${k}ms/${masterDownMs(k)}ms`;
  if (manager !== 'keepalived' || timers === 'classic' || timers === 'fast' || k === undefined) return timers;
  return `${k}ms/${masterDownMs(k)}ms`;
}

/** How long the manager takes to declare the holder gone: deadtime, or keepalived's master-down interval. */
function detectionMs(manager: string, lab: LabState): number {
  return manager === 'keepalived' ? masterDownMs(lab.timers.keepaliveMs) : lab.timers.deadtimeMs;
}

/** The lab manager a bench row runs. */
const labManager = (manager: string): string => (manager === 'hadiag-equal' ? 'hadiag' : manager);

/** The last heartbeat/advert (udp/694 or VRRP) from `src` in a capture, epoch ms. */
async function lastHeardMs(file: string, src: string): Promise<number | undefined> {
  const r = await exec(['tcpdump', '-tt', '-n', '-r', file, `src host ${src}`]);
  const last = r.stdout.trim().split('\n').at(-1);
  const ts = last ? Number(last.split(' ')[0]) * 1000 : NaN;
  return Number.isFinite(ts) ? ts : undefined;
}

/** Copy the servers' logs of a lab about to be torn down to bench/results/<what>-<time>/; returns that folder. */
function keepLogs(lab: LabState, what: string): string {
  const dir = join(RESULTS_DIR, `${what}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  for (const h of lab.hosts) {
    if (h.role !== 'server') continue;
    for (const f of ['ha-log', 'hadiag-node.out']) {
      const from = join(lab.dir, h.name, f);
      if (!existsSync(from)) continue;
      mkdirSync(dir, { recursive: true });
      cpSync(from, join(dir, `${h.name}-${f}`));
    }
  }
  return dir;
}

async function waitRecovered(probe: Pinger, fromMs: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (probe.recovered(fromMs, MIN_OUTAGE_MS, 500)) return true;
    await sleep(100);
  }
  return false;
}

async function waitHome(lab: LabState, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await vipView(lab);
    if (v.holders.length === 1 && v.holders[0] === 'server1' && v.stale.length === 0) return true;
    await sleep(100);
  }
  return false;
}

/** Replies flowing with no gap above 50 ms for `ms`. */
async function waitSteady(probe: Pinger, ms: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const now = nowMs();
    const r = probe.replies.filter((t) => t >= now - ms);
    const gaps = r.slice(1).map((t, i) => t - r[i]!);
    if (r.length > ms / 20 && Math.max(0, ...gaps) < MIN_OUTAGE_MS && now - r[r.length - 1]! < MIN_OUTAGE_MS) return true;
    await sleep(200);
  }
  return false;
}

export interface RunResult {
  failoverMs?: number;
  /** the client's first reply after the failover − the old holder's last heartbeat/advert − detectionMs */
  overheadMs?: number;
  failbackMs?: number;
  failoverRecovered: boolean;
  failbackRecovered?: boolean;
}

export interface Row {
  manager: string;
  timers: string;
  timerSummary: string;
  profile: string;
  runs: RunResult[];
  failover?: Summary;
  failback?: Summary;
  /** the manager's detection time (deadtime / master-down interval) and the takeover overhead above it */
  detectionMs?: number;
  overhead?: Summary;
  error?: string;
  notes?: string[];
}

interface Live {
  lab: LabState;
  probe: Pinger;
}

async function build(manager: string, timers: string, profile: string): Promise<Live> {
  const lab = await upLab({ manager: labManager(manager), timers, profiles: [profile], clients: 1 });
  return { lab, probe: Pinger.start(clients(lab)[0]!.netns, lab.vip, 0.005) };
}

async function teardown(l: Live): Promise<void> {
  await l.probe.stop();
  await destroyLab(l.lab.id);
}

async function benchOne(manager: string, timers: string, profile: string, runs: number, failback: boolean): Promise<Row> {
  const t = timersFor(manager, timers);
  progress(`${manager}, timers ${t}, client ${profile}: building the lab`);
  let live = await build(manager, t, profile);
  const row: Row = { manager, timers: t, timerSummary: live.lab.timers.summary, profile, runs: [], detectionMs: detectionMs(manager, live.lab) };
  const slow = Math.max(30_000, live.lab.timers.deadtimeMs * 6);
  const rebuilds: string[] = [];
  const notes: string[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const { lab, probe } = live;
      if (!(await waitHome(lab, 90_000))) throw new Error('the VIP did not settle on server1');
      if (!(await waitSteady(probe, 3000, 120_000))) throw new Error('the client never got steady replies');
      const [s1, s2] = [labHost(lab, 'server1'), labHost(lab, 'server2')];
      const heard = join(lab.dir, `heard-${i + 1}.pcap`);
      const watch = await startPortCapture(s2.netns, s2.ifname, heard, `src host ${s1.address} and (udp port 694 or ip proto 112)`);
      await sleep(profile === 'linux-default' ? 1000 : 3000);
      const down = await applyFault(lab, parseFault('primary-link-down'));
      const ok = await waitRecovered(probe, down.atMs, profile === 'linux-default' ? slow : 120_000);
      const outage = probe.outage(down.atMs);
      await killPid(watch.pid, 1000);
      const run: RunResult = { failoverRecovered: ok, failoverMs: outage?.ms };
      const last = await lastHeardMs(heard, s1.address);
      if (ok && last !== undefined && outage?.firstReplyMs !== undefined) run.overheadMs = outage.firstReplyMs - last - detectionMs(manager, lab);
      await waitForVipHolder(lab, 30_000).catch(() => '');
      await sleep(2000);
      const up = await applyFault(lab, parseFault('link-up'), 'server1');
      let settled = true;
      if (failback) {
        const home = await waitHome(lab, 60_000);
        const steady = home && (await waitSteady(probe, 1500, profile === 'linux-default' ? 60_000 : 120_000));
        run.failbackRecovered = steady;
        run.failbackMs = probe.outage(up.atMs)?.ms;
        settled = home;
        if (manager === 'hadiag' && (run.failbackMs ?? 0) > 1000) notes.push(`run ${i + 1}: failback ${fmtMs(run.failbackMs!)}; logs kept in ${keepLogs(lab, `slow-failback-${manager}-${i + 1}`)}`);
      } else settled = await waitHome(lab, 90_000);
      row.runs.push(run);
      progress(`${manager} ${t} run ${i + 1}/${runs}: failover ${fmtMs(run.failoverMs ?? NaN)}${ok ? '' : ' (not recovered)'} (overhead ${fmtMs(run.overheadMs ?? NaN)})${failback ? `, failback ${fmtMs(run.failbackMs ?? NaN)}${run.failbackRecovered ? '' : ' (not settled)'}` : ''}`);
      if (!settled && i < runs - 1) {
        // the pair never settled on one owner after the link came back: measure the next run on a fresh lab
        const v = await vipView(lab);
        const kept = keepLogs(lab, `unsettled-${manager}-${i + 1}`);
        rebuilds.push(`run ${i + 1}: after link-up the VIP stayed on ${v.holders.join('+') || 'nobody'}; lab rebuilt (its logs: ${kept})`);
        progress(`${manager} ${t}: ${rebuilds.at(-1)}`);
        await teardown(live);
        live = await build(manager, t, profile);
      }
    }
  } catch (err) {
    row.error = (err as Error).message;
    progress(`${manager} ${t}: ${row.error}`);
  } finally {
    await teardown(live);
  }
  if (rebuilds.length || notes.length) row.notes = [...rebuilds, ...notes];
  const fo = row.runs.filter((r) => r.failoverRecovered && r.failoverMs !== undefined).map((r) => r.failoverMs!);
  const fb = row.runs.filter((r) => r.failbackRecovered && r.failbackMs !== undefined).map((r) => r.failbackMs!);
  if (fo.length) row.failover = summarize(fo);
  const oh = row.runs.filter((r) => r.overheadMs !== undefined).map((r) => r.overheadMs!);
  if (oh.length) row.overhead = summarize(oh);
  if (fb.length) row.failback = summarize(fb);
  return row;
}

export async function failoverBench(o: { name?: string; profile?: string } = {}): Promise<Row[]> {
  const managers = flag('managers', 'hadiag,hadiag-equal,heartbeat,keepalived').split(',');
  const timersList = flag('timers', 'classic,100ms/500ms').split(',');
  const runs = Number(flag('runs', '5'));
  const profile = o.profile ?? flag('profile', 'linux-default');
  const failback = !process.argv.includes('--no-failback') && profile === 'linux-default';
  const name = o.name ?? (profile === 'linux-default' ? 'failover' : `failover-${profile}`);
  const rows: Row[] = [];
  for (const timers of timersList) {
    for (const m of managers) {
      try {
        rows.push(await benchOne(m, timers, profile, runs, failback));
      } catch (err) {
        rows.push({ manager: m, timers: timersFor(m, timers), timerSummary: '', profile, runs: [], error: (err as Error).message });
      }
    }
  }
  log(`failover${failback ? ' / failback' : ''} outage seen by a client pinging the VIP every 5 ms (client profile ${profile}); medians, p95 over the runs`);
  for (const timers of timersList) {
    const group = rows.filter((r) => r.timers === timersFor(r.manager, timers));
    const anchor = (m: string) => group.find((r) => r.manager === m);
    for (const r of group) {
      const fo = r.failover;
      const fb = r.failback;
      let line = `  ${r.manager.padEnd(10)} ${r.timers.padEnd(12)} failover median ${fmtMs(fo?.median ?? NaN).padStart(9)} p95 ${fmtMs(fo?.p95 ?? NaN).padStart(9)} (n=${fo?.n ?? 0})`;
      line += `   detection ${fmtMs(r.detectionMs ?? NaN).padStart(9)} + overhead median ${fmtMs(r.overhead?.median ?? NaN).padStart(9)} (n=${r.overhead?.n ?? 0})`;
      if (failback) line += `   failback median ${fmtMs(fb?.median ?? NaN).padStart(9)} p95 ${fmtMs(fb?.p95 ?? NaN).padStart(9)} (n=${fb?.n ?? 0})`;
      if (r.error) line += `   [${r.error}]`;
      if (r.notes) line += `   [${r.notes.join("; ")}]`;
      log(line);
    }
    for (const [ours, a] of [['hadiag', 'heartbeat'], ['hadiag', 'keepalived'], ['hadiag', 'ucarp'], ['hadiag-equal', 'keepalived']] as const) {
      const h = anchor(ours);
      const x = anchor(a);
      if (!h || !x) continue;
      log(
        `  ratio ${ours} / ${a} (${timers}): failover ${fmtRatio(ratio(h.failover?.median ?? NaN, x.failover?.median ?? NaN))}` +
          `, takeover overhead ${fmtRatio(ratio(h.overhead?.median ?? NaN, x.overhead?.median ?? NaN))}` +
          (failback ? `, failback ${fmtRatio(ratio(h.failback?.median ?? NaN, x.failback?.median ?? NaN))}` : ''),
      );
    }
  }
  const file = writeResult(name, { profile, runsPerRow: runs, probeIntervalMs: 5, rows });
  log(`  results: ${file}`);
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  failoverBench().catch((err) => {
    process.stderr.write(`bench failover: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
