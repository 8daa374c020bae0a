/**
 * One compare-garp trial: a fresh lab (two servers running the row's manager, one fresh client namespace per
 * profile), every client measured with measure-failover's engine, link-down of the VIP holder, wait until
 * every client answered again (or the cap), collect. The lab is always torn down.
 */
import { createInterface } from 'node:readline';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ChildProcess } from 'node:child_process';
import { envError, HadiagError } from '../../core/errors.js';
import { readFile } from 'node:fs/promises';
import { run, runOk } from '../io/exec.js';
import { labDir as labDirOf } from '../lab/state.js';
import { newRunId, nsSpawn } from '../io/netns.js';
import { sleep } from '../../core/clock.js';
import { onCleanup } from '../io/cleanup.js';
import { upLab, destroyLab } from '../lab/lab.js';
import { applyFault, parseFault } from '../lab/faults.js';
import { clients, clientVips, labVips, type LabHost, type LabState } from '../lab/types.js';
import type { NeighOverrides } from '../../models/lab/profiles.js';
import { moduleArgv } from '../../core/module-argv.js';
import type { ClientOutcome } from '../../models/compare/client-result.js';
import type { Row } from '../../models/compare/matrix.js';
import type { Family } from '../../models/strategy/spec-language.js';

export interface TrialOptions {
  row: Row;
  /** the VIP's family (default 4) */
  family?: Family;
  profiles: string[];
  timers: string;
  neigh?: NeighOverrides;
  /** ping interval of each client (ms) */
  intervalMs?: number;
  /** pinging before the fault (entries REACHABLE) */
  settleMs?: number;
  /** give up this long after the fault */
  maxWaitMs?: number;
  /** keep measuring this long after the last client recovered */
  tailMs?: number;
  onProgress?: (text: string) => void;
}

export interface TrialResult {
  row: string;
  lab: string;
  faultHost?: string;
  deadtimeMs: number;
  /** profile → outcome (undefined when the client's measurement failed) */
  clients: Record<string, ClientOutcome | { error: string }>;
  durationMs: number;
}

const now = (): number => performance.timeOrigin + performance.now();

interface ClientRun {
  profile: string;
  child: ChildProcess;
  phase: string;
  outages: number;
  outagesAtFault?: number;
  recoveredAt?: number;
  result?: ClientOutcome | { error: string };
  done: Promise<void>;
}

/** The VIP of `family` this client talks to. */
export function trialVip(lab: LabState, host: LabHost, family: Family): string {
  const mine = clientVips(lab, host).find((v) => v.includes(':') === (family === 6));
  const vip = mine ?? labVips(lab, family)[0]?.address;
  if (!vip) throw envError(`lab ${lab.id} has no IPv${family} VIP`, `lab ${lab.id}`, `build it with lab up --family ${family}`);
  return vip;
}

function startClient(lab: LabState, host: LabHost, family: Family, intervalMs: number, timeoutMs: number): ClientRun {
  const profile = host.profile!;
  const pcap = join(lab.dir, `probe-${profile}.pcap`);
  const child = nsSpawn(host.netns, [...moduleArgv('effects/compare/trial-client-main'), trialVip(lab, host, family), String(intervalMs), String(timeoutMs), pcap], { stdio: ['pipe', 'pipe', 'pipe'] });
  const c: ClientRun = { profile, child, phase: 'starting', outages: 0, done: Promise.resolve() };
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
  c.done = new Promise<void>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let m: { type?: string; phase?: string; outages?: number; message?: string } & Record<string, unknown>;
      try {
        m = JSON.parse(line);
      } catch {
        return;
      }
      if (m.type === 'state') {
        if (m.phase === 'recovered' && c.phase !== 'recovered') c.recoveredAt = now();
        c.phase = m.phase ?? c.phase;
        c.outages = m.outages ?? c.outages;
      } else if (m.type === 'result') {
        const { type: _t, stoppedBy: _s, pcap: _p, ...rest } = m;
        c.result = rest as unknown as ClientOutcome;
      } else if (m.type === 'error') c.result = { error: String(m.message) };
    });
    child.on('close', (code) => {
      if (!c.result) c.result = { error: `measurement exited ${code}: ${err.trim().split('\n').at(-1) ?? ''}` };
      resolve();
    });
  });
  return c;
}

/**
 * One failover serves every client, but a client that recovers makes the new holder resolve it with a
 * broadcast request from the VIP ("who-has CLIENT tell VIP"), which every other client takes as an update of
 * its VIP entry (sender IP ≠ target IP: no GARP filter stops it). So each client port of the bridge only
 * gets the ARP addressed to it or announcing the VIP: each profile is measured as if it were alone.
 */
export function isolationRuleset(lab: LabState): string {
  const rules = clients(lab).map((c) => `    oifname "${c.bridgePort}" ether type arp arp daddr ip != { ${c.address}, ${lab.vip} } counter drop comment "isolate ${c.name}"`);
  return ['table bridge hadiag_cmp', 'delete table bridge hadiag_cmp', 'table bridge hadiag_cmp {', '  chain forward {', '    type filter hook forward priority -10; policy accept;', ...rules, '  }', '}', ''].join('\n');
}

async function isolateClients(lab: LabState): Promise<void> {
  await runOk(['ip', 'netns', 'exec', lab.bridgeNetns, 'nft', '-f', '-'], { input: isolationRuleset(lab) });
}

/** The lab is torn down after a failed trial: an error that names a log file gets the log's last lines, read first. */
async function withLogTail(err: unknown): Promise<unknown> {
  if (!(err instanceof HadiagError) || !err.where?.startsWith('/')) return err;
  const text = await readFile(err.where, 'utf8').catch(() => '');
  const tail = text.trim().split('\n').slice(-3).join(' | ');
  return tail ? new HadiagError(err.kind, `${err.message} (${basename(err.where)}: ${tail.slice(-400)})`, err.where, err.fix) : err;
}

export async function runTrial(o: TrialOptions): Promise<TrialResult> {
  const t0 = now();
  const progress = o.onProgress ?? (() => {});
  const intervalMs = o.intervalMs ?? 10;
  const maxWaitMs = o.maxWaitMs ?? 75_000;
  const family = o.family ?? 4;
  const id = newRunId();
  const strategyRow = o.row.kind === 'strategy';
  const manager = strategyRow ? 'hadiag' : o.row.manager;
  const announce = o.row.kind === 'announce' ? [o.row.spec ?? 'default'] : undefined;
  const runs: ClientRun[] = [];
  const unregister = onCleanup(`compare trial ${id}`, async () => {
    for (const r of runs) r.child.kill('SIGKILL');
    await destroyLab(id);
  });
  try {
    progress('building the lab');
    const lab = await upLab({ manager, ...(family === 6 ? { families: [6] } : {}), ...(strategyRow ? { garp: o.row.spec! } : {}), ...(announce ? { announce } : {}), profiles: o.profiles, clients: o.profiles.length, timers: o.timers, neigh: o.neigh, name: id });
    const deadtimeMs = lab.timers.deadtimeMs;
    // IPv6 needs no isolation: the new holder resolves a client with an NS to that client's solicited-node
    // group, which the other clients have not joined, and an NS for another host's address teaches nothing
    if (family === 4) await isolateClients(lab);
    const timeoutMs = (o.settleMs ?? 3000) + maxWaitMs + 30_000;
    for (const c of clients(lab)) runs.push(startClient(lab, c, family, intervalMs, timeoutMs));
    progress('clients start probing the VIP');
    const readyBy = Date.now() + 150_000;
    while (runs.some((r) => r.phase === 'starting' && !r.result) && Date.now() < readyBy) await sleep(100);
    const notReady = runs.filter((r) => r.phase === 'starting');
    if (notReady.length) throw envError(`client probes did not start (${notReady.map((r) => r.profile).join(', ')})`, `lab ${id}`, 'is the VIP reachable in the lab? see the lab logs');
    await sleep(o.settleMs ?? 3000);
    // snapshot before the fault: the first lost probes may be reported before applyFault returns
    for (const r of runs) r.outagesAtFault = r.outages;
    const fault = await applyFault(lab, parseFault('link-down'));
    for (const r of runs) r.child.stdin!.write(`fault ${fault.atMs}\n`);
    const tail = o.tailMs ?? 1500;
    const deadline = Date.now() + maxWaitMs;
    const settled = (r: ClientRun) => r.result !== undefined || (r.outages > (r.outagesAtFault ?? 0) && r.phase === 'recovered' && now() - (r.recoveredAt ?? now()) >= tail);
    while (Date.now() < deadline && !runs.every(settled)) {
      const waiting = runs.filter((r) => !settled(r)).length;
      progress(`link-down of ${fault.host} ${((now() - fault.atMs) / 1000).toFixed(0)} s ago; ${waiting} client(s) still without replies`);
      if (process.env.HADIAG_DEBUG_COMPARE) progress(runs.map((r) => `${r.profile}:${r.phase}/${r.outages}@${r.outagesAtFault}`).join(' '));
      await sleep(250);
    }
    for (const r of runs) r.child.stdin!.write('stop\n');
    // stopping the capture and analysing a minute of 10 ms probes takes a while on a busy machine
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(runs.map((r) => r.done)), new Promise((r) => (timer = setTimeout(r, 120_000)))]);
    clearTimeout(timer);
    const out: TrialResult['clients'] = {};
    for (const r of runs) out[r.profile] = r.result ?? { error: 'no result from the measurement' };
    return { row: o.row.label, lab: id, ...(fault.host ? { faultHost: fault.host } : {}), deadtimeMs, clients: out, durationMs: now() - t0 };
  } catch (err) {
    throw await withLogTail(err);
  } finally {
    progress('tearing down');
    if (process.env.HADIAG_DEBUG_COMPARE) await run(['cp', '-r', labDirOf(id), `/tmp/compare-${id}`]);
    for (const r of runs) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    unregister();
    await destroyLab(id);
  }
}
