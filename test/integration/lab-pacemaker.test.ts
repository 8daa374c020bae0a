/**
 * The lab's `pacemaker` row: the real Pacemaker 2.1.5 + Corosync 3.1.7 with an IPaddr2 VIP at its defaults,
 * fast timers (token 1000 ms), one lab shared by every assertion. server1's link goes down while
 * `hadiag measure-failover` runs on a stock client; server1 comes back and gets the VIP again; its link goes
 * down again while a client that drops gratuitous ARP (garp-filtered) measures and `hadiag garp-check`
 * watches it: the field report's outage, with Pacemaker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { upLab, destroyLab } from '../../src/effects/lab/lab.js';
import { vipView, waitForVipHolder } from '../../src/effects/lab/vip.js';
import { clients, labHost, servers, type LabState } from '../../src/effects/lab/types.js';
import { nodeCli } from '../../src/effects/lab/managers/pacemaker.js';
import { listNetns, netnsPids } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { run } from '../../src/effects/io/exec.js';
import { runHadiag as hadiag } from '../../src/effects/lab/hadiag-cli.js';

// each client's entry is fresh when its fault hits (flushed just before): reachable 5–15 s, then delay 5 s and 3 probes
const NEIGH = { base_reachable_time_ms: 10_000 };

interface Measured {
  outages: { durationMs: number; macBefore?: string; macAfter?: string; learnedBy?: string; diagnosis: { cause: string; sentence: string } }[];
  triggerTsMs?: number;
  summary: string;
}

function parseJson<T>(what: string, r: { code: number; stdout: string; stderr: string }): T {
  assert.ok(r.stdout.trim().startsWith('{'), `${what}: no JSON (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Wait until server1 alone holds the VIP and Pacemaker says so (after its link came back). */
async function backOnServer1(lab: LabState): Promise<void> {
  const deadline = Date.now() + 45_000;
  let last = '';
  while (Date.now() < deadline) {
    const mon = await nodeCli(labHost(lab, 'server1'), ['crm_mon', '-1']).catch(() => undefined);
    last = mon?.stdout ?? '';
    if (/Online: \[ server1 server2 \]/.test(last) && /vip\s+\(ocf:heartbeat:IPaddr2\):\s+Started server1\n/.test(last)) {
      if ((await vipView(lab)).holders.join() === 'server1') return;
    }
    await sleep(250);
  }
  assert.fail(`the VIP did not return to server1 alone: ${last}`);
}

/** No corosync or pacemaker process left anywhere (the killed ones may be zombies for a moment). */
async function clusterDaemons(): Promise<string[]> {
  const r = await run(['ps', '-eo', 'pid=,stat=,comm=']);
  return r.stdout.split('\n').filter((l) => /\b(corosync|pacemaker[\w-]*)$/.test(l.trim()) && !/\sZ/.test(l));
}

test('Pacemaker lab: settles in seconds, IPaddr2 moves on link-down, the garp-filtered client waits for its own ARP timeout; measure-failover, garp-check and lab down', { timeout: 180_000 }, async () => {
  const t0 = Date.now();
  const lab: LabState = await upLab({ manager: 'pacemaker', timers: 'fast', profiles: ['linux-default', 'garp-filtered'], neigh: NEIGH });
  const settleMs = Date.now() - t0;
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-lab-pacemaker-'));
  let destroyed = false;
  try {
    process.stderr.write(`# pacemaker lab ${lab.id} up with the VIP held in ${(settleMs / 1000).toFixed(1)} s (namespaces, two nodes, election, IPaddr2 start)\n`);
    assert.ok(settleMs < 60_000, `lab up took ${settleMs} ms: the pre-seeded CIB and dc-deadtime should settle it in seconds`);
    const holder = await waitForVipHolder(lab, 5000);
    assert.equal(holder, 'server1', 'the CIB prefers server1');
    const mon = await nodeCli(labHost(lab, 'server2'), ['crm_mon', '-1']);
    assert.equal(mon.code, 0, mon.stderr);
    assert.match(mon.stdout, /Online: \[ server1 server2 \]/);
    assert.match(mon.stdout, /vip\s+\(ocf:heartbeat:IPaddr2\):\s+Started server1/);

    const [stock, filtered] = clients(lab);
    const [s1, s2] = servers(lab);
    const linkDown = `ip -n ${s1!.netns} link set ${s1!.ifname} down`;

    // 1. the stock client alone: it moves at IPaddr2's first GARP
    await run(['ip', '-n', stock!.netns, 'neigh', 'flush', 'to', lab.vip, 'dev', stock!.ifname]);
    const stockDoc = parseJson<Measured>('stock measure-failover', await hadiag(stock!.netns, ['measure-failover', '--vip', lab.vip, '--trigger', linkDown, '--timeout', '40s', '--json', '--write', join(dir, 'stock.pcap')], 60_000));
    assert.equal(stockDoc.outages.length, 1, stockDoc.summary);
    const so = stockDoc.outages[0]!;
    assert.equal(so.macBefore, s1!.mac);
    assert.equal(so.macAfter, s2!.mac, 'the VIP moved to server2');
    assert.equal(so.diagnosis.cause, 'detection-bound', so.diagnosis.sentence);
    assert.ok(so.durationMs < 20_000, `stock client outage ${so.durationMs} ms`);
    assert.equal(await waitForVipHolder(lab, 5000), 'server2');

    // server1 back: the VIP was active on both (no fencing), Pacemaker stops both copies and starts it on server1 again
    await run(['ip', '-n', s1!.netns, 'link', 'set', s1!.ifname, 'up']);
    await backOnServer1(lab);

    // 2. the garp-filtered client alone (a stock client's traffic would make the new holder ask for it by
    // broadcast from the VIP, which moves every client's entry): its own ARP timeout ends the outage
    await run(['ip', '-n', filtered!.netns, 'neigh', 'flush', 'to', lab.vip, 'dev', filtered!.ifname]);
    const watch = hadiag(filtered!.netns, ['garp-check', filtered!.ifname, '--vip', lab.vip, '--duration', '12s', '--json', '--write', join(dir, 'garp.pcap')], 60_000);
    const filteredDoc = parseJson<Measured>('filtered measure-failover', await hadiag(filtered!.netns, ['measure-failover', '--vip', lab.vip, '--trigger', linkDown, '--timeout', '60s', '--json', '--write', join(dir, 'filtered.pcap')], 90_000));
    assert.equal(filteredDoc.outages.length, 1, filteredDoc.summary);
    const fo = filteredDoc.outages[0]!;
    const told = `${fo.diagnosis.sentence} (${(fo.durationMs / 1000).toFixed(2)} s; stock ${(so.durationMs / 1000).toFixed(2)} s)`;
    assert.equal(fo.macAfter, s2!.mac);
    assert.equal(fo.learnedBy, 'own-resolution', `the filtered GARPs never moved the client: ${told}`);
    assert.equal(fo.diagnosis.cause, 'announcements-ignored', told);
    // token + consensus is 2.2 s; the filtered client waits for the rest of its reachable time, 5 s of delay and 3 probes
    assert.ok(fo.durationMs > so.durationMs + 4000, told);

    const gc = await watch;
    const lines = gc.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
    const frames = lines.filter((l) => l.type === 'frame' && l.senderIp === lab.vip && l.senderMac === s2!.mac) as { op: string; prediction?: { outcome: string; reason: string } }[];
    // IPaddr2's defaults: send_arp -r 5, a request and a reply per round
    assert.ok(frames.length >= 10, `garp-check saw ${frames.length} announcements from server2: ${gc.stderr}`);
    assert.deepEqual(frames.slice(0, 4).map((f) => f.op), ['request', 'reply', 'request', 'reply']);
    for (const f of frames) assert.match(f.prediction?.reason ?? '', /ARP firewall/, 'garp-check predicts the filtered client drops every one');
    const summary = lines.find((l) => l.type === 'summary') as { summary: { takeovers: { mac: string; announcements: number }[] } } | undefined;
    assert.equal(summary?.summary.takeovers[0]?.mac, s2!.mac);
    process.stderr.write(
      `# pacemaker fast timers: stock client outage ${(so.durationMs / 1000).toFixed(2)} s (${so.diagnosis.cause}), garp-filtered ${(fo.durationMs / 1000).toFixed(2)} s (${fo.diagnosis.cause}); IPaddr2 sent ${frames.length} frames\n`,
    );

    const removed = await destroyLab(lab.id);
    destroyed = true;
    assert.ok(removed.namespaces.length >= 4);
    assert.deepEqual((await listNetns()).filter((n) => n.startsWith(`hadiag-${lab.id}-`)), []);
    for (const ns of removed.namespaces) assert.deepEqual(await netnsPids(ns).catch(() => []), []);
    let left = await clusterDaemons();
    for (let i = 0; i < 50 && left.length; i++) {
      await sleep(100);
      left = await clusterDaemons();
    }
    assert.deepEqual(left, [], 'no corosync or pacemaker process survives lab down');
  } finally {
    if (!destroyed) await destroyLab(lab.id);
    rmSync(dir, { recursive: true, force: true });
  }
});
