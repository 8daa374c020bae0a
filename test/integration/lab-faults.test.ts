import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { upLab, destroyLab } from '../../src/effects/lab/lab.js';
import { applyFault, parseFault } from '../../src/effects/lab/faults.js';
import { vipView, waitForVipHolder } from '../../src/effects/lab/vip.js';
import { labHost, type LabState } from '../../src/effects/lab/types.js';
import { mainPid } from '../../src/effects/lab/managers/common.js';
import { run } from '../../src/effects/io/exec.js';
import { listNetns, netnsPids } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { neighMac, waitFor } from './lab-helpers.js';
import { nowMs } from '../../src/core/clock.js';

// keepalived with fast timers (master down 0.72 s), one default client with shrunk neighbour timers.
let lab: LabState;
const h = (n: string) => labHost(lab, n);
const ping = (from: string, to: string, count = 1, extra: string[] = []) =>
  run(['ip', 'netns', 'exec', h(from).netns, 'ping', '-n', '-c', String(count), '-W', '1', ...extra, to]);
const fault = (spec: string, host?: string) => applyFault(lab, parseFault(spec), host);

before(async () => {
  lab = await upLab({ manager: 'keepalived', timers: 'fast', profiles: ['linux-default'], neigh: { base_reachable_time_ms: 2000, delay_first_probe_time: 1 } });
});
after(async () => {
  if (lab) await destroyLab(lab.id);
  assert.ok(!(await listNetns()).some((n) => n.startsWith(`hadiag-${lab.id}-`)));
});

test('every fault reports the epoch time it took effect', async () => {
  const before = nowMs();
  const r = await fault('aging=300');
  assert.ok(r.atMs >= before && r.atMs <= nowMs(), `${r.atMs} within the call`);
  assert.equal(lab.faults.at(-1)!.kind, 'aging=300');
});

test('loss=PCT drops that share of the client\'s frames; loss=0 ends it', async () => {
  // Static neighbour entries, so the lossy link cannot also lose the ARP resolution itself.
  const pin = (a: string, b: string) => run(['ip', '-n', h(a).netns, 'neigh', 'replace', h(b).address, 'lladdr', h(b).mac, 'dev', h(a).ifname, 'nud', 'permanent']);
  await pin('client', 'server1');
  await pin('server1', 'client');
  try {
    const r = await fault('loss=50', 'client');
    assert.equal(r.host, 'client');
    const lossy = await ping('client', h('server1').address, 100, ['-i', '0.01', '-q']);
    const pct = Number(/(\d+(?:\.\d+)?)% packet loss/.exec(lossy.stdout)?.[1]);
    assert.ok(pct >= 40 && pct <= 98, `loss ${pct} % with 50 % each way (expected ~75 %)`);
  } finally {
    await fault('loss=0', 'client');
  }
  const clean = await ping('client', h('server1').address, 50, ['-i', '0.01', '-q']);
  assert.match(clean.stdout, / 0% packet loss/);
  await run(['ip', '-n', h('client').netns, 'neigh', 'del', h('server1').address, 'dev', h('client').ifname]);
  await run(['ip', '-n', h('server1').netns, 'neigh', 'del', h('client').address, 'dev', h('server1').ifname]);
});

test('aging=0 floods unicast between the servers to the client', async () => {
  const sniff = async () => {
    const cap = run(['ip', 'netns', 'exec', h('client').netns, 'timeout', '2', 'tcpdump', '-n', '-i', h('client').ifname, '-c', '3', 'icmp and host', h('server1').address, 'and host', h('server2').address]);
    await sleep(400);
    await ping('server1', h('server2').address, 10, ['-i', '0.05']);
    const r = await cap;
    return Number(/(\d+) packets? captured/.exec(r.stderr)?.[1] ?? 0);
  };
  await ping('server1', h('server2').address, 2); // both MACs learned
  assert.equal(await sniff(), 0, 'a learning bridge does not show the client server traffic');
  await fault('aging=0');
  assert.ok((await sniff()) >= 1, 'with ageing 0 every frame is flooded');
  await fault('aging=300');
});

test('partition: both servers take the VIP, both still reach the client; heal: one holder again', async () => {
  await fault('partition');
  try {
    const split = await waitFor(async () => ((await vipView(lab)).holders.length === 2 ? true : undefined), 10_000);
    assert.ok(split, 'split brain within 10 s');
    assert.notEqual((await ping('server1', h('server2').address)).code, 0, 'servers cannot hear each other');
    assert.equal((await ping('server1', h('client').address, 3, ['-i', '0.2'])).code, 0);
    assert.equal((await ping('server2', h('client').address, 3, ['-i', '0.2'])).code, 0);
  } finally {
    await fault('heal');
  }
  assert.equal(await waitForVipHolder(lab, 10_000), 'server1');
  assert.equal((await ping('server1', h('server2').address)).code, 0);
});

test('stp-delay: a port that comes back forwards only after 2 × delay', async () => {
  await fault('stp-delay=2');
  await sleep(500);
  await fault('link-down', 'server2');
  await sleep(300);
  const up = await fault('link-up');
  assert.equal(up.host, 'server2', 'link-up defaults to the host downed last');
  const back = await waitFor(async () => ((await ping('client', h('server2').address, 1, ['-W', '0.3'])).code === 0 ? nowMs() : undefined), 15_000, 50);
  assert.ok(back, 'server2 reachable again');
  assert.ok(back - up.atMs >= 2500, `blocked for ${Math.round(back - up.atMs)} ms (forward delay 2 s: listening + learning 4 s)`);
  await fault('stp-delay=0');
});

test('link-down of the VIP holder: the client ends up at server2; link-up: server1 takes it back', async () => {
  assert.equal((await ping('client', lab.vip)).code, 0);
  assert.equal(await neighMac(h('client').netns, lab.vip), h('server1').mac);
  const down = await fault('link-down');
  assert.equal(down.host, 'server1', 'defaults to the VIP holder');
  assert.equal(await waitForVipHolder(lab, 10_000, { not: 'server1' }), 'server2');
  const mac = await waitFor(async () => {
    await ping('client', lab.vip, 1, ['-W', '0.2']);
    const m = await neighMac(h('client').netns, lab.vip);
    return m === h('server2').mac ? m : undefined;
  }, 12_000);
  assert.equal(mac, h('server2').mac);
  await fault('link-up');
  assert.equal(await waitForVipHolder(lab, 12_000, { not: 'server2' }), 'server1');
});

test('term stops the manager gracefully (VIP released); kill leaves the VIP behind', async () => {
  const t = await fault('term', 'server1');
  assert.match(t.detail, /SIGTERM/);
  assert.equal(await waitForVipHolder(lab, 10_000, { not: 'server1' }), 'server2');
  assert.ok(await waitFor(async () => (mainPid(h('server1')) === undefined ? true : undefined), 10_000), 'server1 keepalived exited');
  const k = await fault('kill');
  assert.equal(k.host, 'server2');
  assert.equal((await netnsPids(h('server2').netns)).length, 0, 'no process left on server2');
  await sleep(1500);
  assert.deepEqual((await vipView(lab)).holders, ['server2'], 'a SIGKILLed keepalived leaves its VIP configured');
});
