/**
 * Lifecycle of hadiag nodes in a lab (`--manager hadiag`, fast timers): a both-ways partition heals to one
 * owner; SIGTERM hands over and removes the VIP; kill -9 then restart leaves no second VIP; `lab down`
 * leaves no namespace and no node process behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { upLab, destroyLab } from '../../src/effects/lab/lab.js';
import { applyFault, parseFault } from '../../src/effects/lab/faults.js';
import { vipView } from '../../src/effects/lab/vip.js';
import { getManager } from '../../src/effects/lab/managers/index.js';
import { labHost, type LabState } from '../../src/effects/lab/types.js';
import { writeState } from '../../src/effects/lab/state.js';
import { alive, listNetns, NETNS_PREFIX } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';

const DEADTIME_MS = 2000;

async function waitView(lab: LabState, what: string, ok: (holders: string[], stale: string[]) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = { holders: [] as string[], stale: [] as string[] };
  while (Date.now() < deadline) {
    last = await vipView(lab);
    if (ok(last.holders, last.stale)) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}: holders ${last.holders.join('+') || 'none'}, stale ${last.stale.join('+') || 'none'}`);
}

async function restart(lab: LabState, name: string): Promise<void> {
  const h = labHost(lab, name);
  h.manager = await getManager('hadiag').start(lab, h);
  await writeState(lab);
}

test('hadiag nodes: partition heals to one owner; SIGTERM hands over; kill -9 + restart leaves one VIP; lab down leaves nothing', { timeout: 150_000 }, async () => {
  const lab = await upLab({ manager: 'hadiag', timers: '250ms/2s', profiles: ['linux-default'], clients: 1, neigh: { base_reachable_time_ms: 2000, delay_first_probe_time: 1 } });
  const pids = new Set<number>();
  const remember = () => lab.hosts.forEach((h) => h.manager && pids.add(h.manager.pid));
  try {
    remember();
    await waitView(lab, 'server1 to hold the VIP', (h) => h.join() === 'server1', 30_000);

    // both-ways partition: each side takes the VIP; heal: one owner again (auto_failback on → server1)
    await applyFault(lab, parseFault('partition'));
    await waitView(lab, 'both sides to hold the VIP during the partition', (h) => h.length === 2, DEADTIME_MS + 15_000);
    await applyFault(lab, parseFault('heal'));
    await waitView(lab, 'one owner after the heal', (h) => h.join() === 'server1', 30_000);

    // SIGTERM: server1 hands over (shutdone) and removes its VIP
    const s1pid = labHost(lab, 'server1').manager!.pid;
    await applyFault(lab, parseFault('term'), 'server1');
    await waitView(lab, 'server2 alone to hold the VIP after SIGTERM', (h, stale) => h.join() === 'server2' && stale.length === 0, 20_000);
    for (let i = 0; i < 100 && alive(s1pid); i++) await sleep(100);
    assert.equal(alive(s1pid), false, 'server1 did not exit after SIGTERM');
    const log1 = await readFile(labHost(lab, 'server1').manager!.logs[0]!, 'utf8');
    assert.match(log1, /shutting down gracefully/);

    // server1 back: failback
    await restart(lab, 'server1');
    remember();
    await waitView(lab, 'failback to server1', (h) => h.join() === 'server1', 40_000);

    // kill -9 leaves server1's VIP configured; server2 takes over; a restart of server1 removes the
    // leftover and ends with one holder
    await applyFault(lab, parseFault('kill'), 'server1');
    await waitView(lab, 'server2 to take over after kill -9', (h) => h.includes('server2'), DEADTIME_MS + 15_000);
    assert.deepEqual((await vipView(lab)).holders.sort(), ['server1', 'server2'], 'kill -9 should leave the VIP configured on server1 (what the restart must clean)');
    await restart(lab, 'server1');
    remember();
    await waitView(lab, 'one holder after the restart', (h) => h.length === 1, 40_000);
    await waitView(lab, 'failback to server1 after the restart', (h) => h.join() === 'server1', 40_000);
    const log1b = await readFile(labHost(lab, 'server1').manager!.logs[0]!, 'utf8');
    assert.match(log1b, /left by an earlier run/, 'the restart did not report removing the leftover VIP');
  } finally {
    await destroyLab(lab.id);
  }
  // nothing left: namespaces, node processes
  assert.deepEqual((await listNetns()).filter((n) => n.startsWith(`${NETNS_PREFIX}${lab.id}-`)), []);
  // a SIGKILLed process is gone once reaped; on a busy machine give it a few seconds, and a PID reused by
  // another program (pid_max is 32768 here) is not our node
  const ourNode = async (pid: number) => alive(pid) && /effects\/node\/main/.test(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''));
  for (const pid of pids) {
    for (let i = 0; i < 50 && (await ourNode(pid)); i++) await sleep(100);
    assert.equal(await ourNode(pid), false, `node process ${pid} survived lab down`);
  }
});
