/**
 * Ping nodes and the built-in ipfail in the lab: hadiag run-node on both servers, fast timers, heartbeats on a
 * separate link (lab up --heartbeat-link separate) and a ping node on the client side (--ping-node). One lab
 * for both tests:
 * 1. the VIP holder's client-facing link goes down (the heartbeats still flow): the VIP moves to the peer and
 *    the client recovers, measured with measure-failover from the client; the link comes back: auto_failback
 *    on brings the VIP home;
 * 2. the links stay up but the ping node stops answering the holder only: the ping nodes, not the carrier or
 *    the heartbeats, move the VIP; answering again brings it home.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { upLab, destroyLab } from '../../src/effects/lab/lab.js';
import { applyFault, parseFault } from '../../src/effects/lab/faults.js';
import { waitForVipHolder } from '../../src/effects/lab/vip.js';
import { clients, labHost, type LabState } from '../../src/effects/lab/types.js';
import { run } from '../../src/effects/io/exec.js';
import { hadiag } from './measure-helpers.js';

const SHRUNK = { base_reachable_time_ms: 2000, delay_first_probe_time: 1 };
let lab: LabState;

before(async () => {
  lab = await upLab({ manager: 'hadiag', timers: 'fast', heartbeatLink: 'separate', pingNode: true, neigh: SHRUNK });
});
after(async () => {
  if (lab) await destroyLab(lab.id);
});

/** keepalive/deadping of the lab's ha.cf (fast: 200 ms / deadping = deadtime 1 s) */
const timers = () => ({ keepaliveMs: lab.timers.keepaliveMs, deadpingMs: lab.timers.deadtimeMs });
const log = (host: string) => readFile(join(labHost(lab, host).dir, 'ha-log'), 'utf8');

test('client-link-down: the ping node dies for the holder only, the VIP moves and the client recovers; link up → auto_failback home', { timeout: 90_000 }, async () => {
  assert.equal(await waitForVipHolder(lab, 10_000), 'server1');
  const c = clients(lab)[0]!;
  const s1 = labHost(lab, 'server1');
  assert.ok(s1.hb, 'server1 has a separate heartbeat link');
  assert.equal((await run(['ip', 'netns', 'exec', c.netns, 'ping', '-c', '1', '-W', '2', lab.vip])).code, 0);
  const res = await hadiag(c.netns, ['measure-failover', '--vip', lab.vip, '--interval', '10ms', '--trigger', `ip -n ${s1.netns} link set ${s1.ifname} down`, '--timeout', '30s', '--json']);
  assert.ok(res.stdout.trim().startsWith('{'), `no JSON (exit ${res.code}): ${res.stderr}`);
  const doc = JSON.parse(res.stdout);
  assert.equal(doc.outages.length, 1, doc.summary);
  const outage = doc.outages[0].durationMs as number;
  const { deadpingMs } = timers();
  // the ping node is dead deadping after its last reply (≤ one echo interval before the fault), ipfail's giveup
  // waits 1.5 echo intervals, then the standby hand-over and the announcement: within deadping + 200 ms
  const announced = (doc.outages[0].timeline as { kind: string; relMs: number }[]).find((e) => e.kind === 'announcement');
  assert.ok(announced, `no announcement in the timeline: ${doc.summary}`);
  process.stderr.write(`# client-link-down: first announcement from server2 ${announced.relMs.toFixed(0)} ms after the fault (bar deadping + 200 = ${deadpingMs + 200} ms), client outage ${outage.toFixed(0)} ms\n`);
  assert.ok(outage >= deadpingMs - 200, `outage ${outage} ms: the VIP cannot move before the ping node is dead`);
  assert.ok(announced.relMs <= deadpingMs + 200 + 300, `the VIP was announced ${announced.relMs} ms after the fault (bench bar deadping + 200 ms; +300 ms for a loaded machine)`);
  assert.equal(await waitForVipHolder(lab, 5000), 'server2');
  const s1log = await log('server1');
  assert.match(s1log, /node 198\.18\.0\.1: is dead/);
  assert.match(s1log, /Giving up because we were told that we have less ping nodes/);
  assert.doesNotMatch(s1log, /peer-dead/, 'the heartbeats kept flowing: nobody was declared dead');
  await applyFault(lab, parseFault('link-up'), 'server1');
  assert.equal(await waitForVipHolder(lab, 15_000, { not: 'server2' }), 'server1', 'auto_failback on: home again');
});

test('ping-node-unreachable from the holder only, links up: the ping nodes move the VIP, and back', { timeout: 60_000 }, async () => {
  assert.equal(await waitForVipHolder(lab, 10_000), 'server1');
  const t0 = Date.now();
  await applyFault(lab, parseFault('ping-node-unreachable'), 'server1');
  assert.equal(await waitForVipHolder(lab, 15_000, { not: 'server1' }), 'server2');
  const movedMs = Date.now() - t0;
  process.stderr.write(`# ping-node-unreachable: VIP on server2 after ≤ ${movedMs} ms (polled)\n`);
  const s1 = labHost(lab, 'server1');
  const link = await run(['ip', '-n', s1.netns, '-o', 'link', 'show', s1.ifname]);
  assert.match(link.stdout, /state UP/, 'the client-facing link stayed up');
  const s2log = await log('server2');
  assert.match(s2log, /Telling other node that we have more visible ping nodes \(1 > 0\)/);
  await applyFault(lab, parseFault('ping-node-reachable'), 'server1');
  assert.equal(await waitForVipHolder(lab, 15_000, { not: 'server2' }), 'server1');
});

test('anchor: the real Heartbeat 3.0.6 and its ipfail, same lab and fault: the VIP moves too', { timeout: 120_000 }, async () => {
  const hb = await upLab({ manager: 'heartbeat', timers: 'fast', heartbeatLink: 'separate', pingNode: true, neigh: SHRUNK });
  try {
    assert.equal(await waitForVipHolder(hb, 20_000), 'server1');
    const c = clients(hb)[0]!;
    const s1 = labHost(hb, 'server1');
    assert.equal((await run(['ip', 'netns', 'exec', c.netns, 'ping', '-c', '1', '-W', '2', hb.vip])).code, 0);
    const res = await hadiag(c.netns, ['measure-failover', '--vip', hb.vip, '--interval', '10ms', '--trigger', `ip -n ${s1.netns} link set ${s1.ifname} down`, '--timeout', '40s', '--json']);
    const doc = JSON.parse(res.stdout);
    assert.equal(doc.outages.length, 1, doc.summary);
    const outage = doc.outages[0].durationMs as number;
    process.stderr.write(`# anchor, real Heartbeat 3.0.6 + ipfail: client-link-down outage ${outage.toFixed(0)} ms\n`);
    assert.ok(outage >= hb.timers.deadtimeMs - hb.timers.keepaliveMs && outage < 20_000, `outage ${outage} ms`);
    assert.equal(await waitForVipHolder(hb, 5000), 'server2');
    const s1log = await readFile(join(s1.dir, 'run', 'ha-log'), 'utf8');
    assert.match(s1log, /Giving up because we were told that we have less ping nodes/, 'the real ipfail decided');
  } finally {
    await destroyLab(hb.id);
  }
});
