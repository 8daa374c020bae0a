/**
 * A backup that knows a client only from its peer (hadiag-clients) still moves it at takeover with the default
 * `directed` strategy. The lab keeps server2 from learning the client itself: the client gets a (non-permanent)
 * neighbour entry for the VIP at server1's MAC, so it never broadcasts an ARP request for the VIP; its pings are
 * unicast to server1 (the bridge has learned server1's MAC from its heartbeats, so nothing is flooded to server2);
 * and it stops talking before server1's link goes down. The client drops gratuitous ARP for the VIP (the lab's
 * garp-filtered profile), so the fallback GARP rounds could not move it: only a directed request from server2,
 * addressed to a client server2 knows from server1's list, can.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sleep } from '../../src/core/clock.js';
import { runOk } from '../../src/effects/io/exec.js';
import { applyProfile } from '../../src/effects/lab/profiles.js';
import { getProfile, nftTable } from '../../src/models/lab/profiles.js';
import {
  makeLab, writeConfig, startNode, stopNode, vipHolders, waitFor, setLink, logEvents, clientVipMac, nodeStatus, VIP, type NodeProc,
} from './node-helpers.js';

const CLIENT_IP = '198.18.0.5';

/** Packets the client's garp-filtered nft rule dropped so far. */
async function garpDrops(netns: string): Promise<number> {
  const out = await runOk(['ip', 'netns', 'exec', netns, 'nft', 'list', 'table', 'arp', nftTable]);
  const m = /counter packets (\d+)/.exec(out);
  assert.ok(m, `no counter in the client's nft table:\n${out}`);
  return Number(m[1]);
}

/** Ports of the lab bridge that have learned `mac` (the bridge's forwarding database). */
async function fdbPorts(bridgeNetns: string, mac: string): Promise<string[]> {
  const out = await runOk(['bridge', '-n', bridgeNetns, '-j', 'fdb', 'show']);
  const list = JSON.parse(out || '[]') as { mac?: string; ifname?: string; flags?: string[]; state?: string }[];
  return list.filter((e) => e.mac?.toLowerCase() === mac && e.state !== 'permanent' && !(e.flags ?? []).includes('self')).map((e) => e.ifname ?? '?');
}

test('a backup announces to a client it only knows from its peer (hadiag-clients), and the client moves', { timeout: 90_000 }, async () => {
  const { topo, dir } = await makeLab();
  const procs: NodeProc[] = [];
  const client = topo.host('client');
  const mac1 = topo.host('server1').mac;
  const mac2 = topo.host('server2').mac;
  let ok = false;
  try {
    // the client never acts on a gratuitous ARP for the VIP
    await applyProfile(client.netns, client.ifname, VIP, getProfile('garp-filtered'));
    for (const n of ['server1', 'server2']) writeConfig(join(dir, n, 'ha.d'), topo.host(n).ifname);

    const s1 = startNode(topo, dir, 'server1');
    procs.push(s1);
    await waitFor('server1 to start', () => logEvents(s1, 'start').length > 0, 30_000);
    await waitFor('server1 to take the VIP alone after initdead', async () => (await vipHolders(topo)).includes('server1'), 10_000);
    // server1 knew nobody: it fell back to GARP rounds, which the client dropped (no entry for the VIP despite arp_accept=1)
    await waitFor('server1’s GARP report', () => logEvents(s1, 'garp')[0], 10_000);
    assert.ok(logEvents(s1, 'clients').some((e) => /no client .* known at takeover/.test(String(e.text))), 'server1 knew no client at its start');
    assert.ok((await garpDrops(client.netns)) > 0, 'the client dropped server1’s GARPs');
    assert.equal(await clientVipMac(topo), undefined, 'no GARP got through the filter');

    // the daemon logs each new hadiag-clients list it feeds to the announcer (event peer-clients, info level)
    const s2 = startNode(topo, dir, 'server2');
    procs.push(s2);
    await waitFor('server2 to see server1 active', () => logEvents(s2, 'peer-up').length > 0, 30_000);
    // the bridge has learned server1's MAC (its heartbeats) on server1's port: pings to it are not flooded
    await waitFor('the bridge to learn server1’s MAC', async () => {
      const ports = await fdbPorts(topo.bridgeNetns, mac1);
      return ports.length === 1 && ports[0] === topo.host('server1').bridgePort;
    }, 5_000);

    // the client: an entry for the VIP at server1's MAC (not permanent: an ARP may change it), then unicast pings
    await runOk(['ip', '-n', client.netns, 'neigh', 'replace', VIP, 'lladdr', mac1, 'dev', client.ifname, 'nud', 'reachable']);
    const ping = await topo.exec('client', ['ping', '-c', '3', '-i', '0.2', '-W', '1', VIP]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.equal(await clientVipMac(topo), mac1);

    // server1 learned the client and told server2, whose daemon fed it to its announcer's book
    const told = await waitFor('server2 to receive server1’s client list', () => logEvents(s2, 'peer-clients').find((e) => (e.clients as string[]).includes(CLIENT_IP)), 15_000);
    assert.equal(told.peer, 'server1', 'the list came from server1');
    const st = await nodeStatus(topo, s2);
    assert.deepEqual(st.clients.filter((c: { ip: string }) => c.ip === CLIENT_IP).map((c: { source: string }) => c.source), ['peer'], '`node status` shows the client and where it came from');
    assert.ok(logEvents(s1, 'clients-learned').some((e) => Number(e.count) >= 1), 'server1 learned the client itself');
    // control: server2 learned nobody itself (its capture and neighbour table never saw the client) — a
    // client of its own would show as clients-learned (its list for server1) or a neighbour-table 'clients' line
    await sleep(2_500); // > the 1 s learned-clients poll, so a client seen by server2's capture would have been reported
    assert.deepEqual(logEvents(s2, 'clients-learned').filter((e) => Number(e.count) > 0), [], 'server2 learned no client by itself');
    assert.deepEqual(logEvents(s2, 'clients'), [], 'server2 logged no client learning of its own');
    assert.equal(await clientVipMac(topo), mac1, 'the client still has server1’s MAC');
    const dropsBefore = await garpDrops(client.netns);

    // server1's link goes down: server2 takes over and sends a directed request to the client from the VIP
    await setLink(topo, 'server1', false);
    const t0 = Date.now();
    await waitFor('server2 to take the VIP', async () => (await vipHolders(topo)).includes('server2'), 8_000);
    const takeoverMs = Date.now() - t0;
    const t1 = Date.now();
    await waitFor('the client to move to server2’s MAC', async () => (await clientVipMac(topo)) === mac2, 3_000, 20);
    const movedMs = Date.now() - t1;

    const ann = await waitFor('server2’s announcement log', () => logEvents(s2, 'clients').find((e) => /^announcing /.test(String(e.text))), 3_000);
    assert.match(String(ann.text), new RegExp(`^announcing ${VIP.replace(/\./g, '\\.')} to 1 known client\\(s\\), most recently seen first: ${CLIENT_IP.replace(/\./g, '\\.')}$`), 'server2 addressed the client it knows from server1');
    assert.ok(!logEvents(s2, 'clients').some((e) => /no client/.test(String(e.text))), 'server2 did not fall back to GARP rounds');
    const garp = await waitFor('server2’s GARP report', () => logEvents(s2, 'garp')[0], 5_000);
    assert.ok(Number(garp.sent) >= 1, JSON.stringify(garp));
    assert.equal(await garpDrops(client.netns), dropsBefore, 'the directed request is not gratuitous: the client’s filter dropped nothing');
    ok = true;
    process.stderr.write(`node-peer-clients: takeover ${takeoverMs} ms after the link went down (deadtime 1 s), client moved ${movedMs} ms after server2 held the VIP\n`);
  } finally {
    for (const p of procs) await stopNode(p);
    if (!ok) for (const p of procs) process.stderr.write(`--- ${p.name} exit ${p.child.exitCode}\n${p.logs.map((l) => `${l.tsMs} ${l.event} ${l.text}`).join('\n')}\n${p.stderr.join('')}\n`);
    await topo.teardown();
  }
});
