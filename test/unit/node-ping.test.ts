/**
 * Ping nodes and the built-in ipfail in the node machine, with the simulated clock: each node "pings" its ping
 * hosts every echo interval (as the daemon's pinger does) and gets a reply after 1 ms while the host is reachable
 * from it (a per-node switch).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sim, baseConfig, type SimNode } from './node-sim.js';
import { getField } from '../../src/codecs/heartbeat/message.js';
import type { AutoFailback, MachineConfig } from '../../src/models/node/machine.js';
import { echoIntervalMs } from '../../src/models/node/ping-nodes.js';

const ROUTER = '198.18.0.254';
const KEEPALIVE = 1000;
const DEADPING = 3000;
/** 300 ms: ten echoes per deadping, fewer than one per keepalive would give */
const ECHO = echoIntervalMs(KEEPALIVE, DEADPING);

/** hosts each node cannot reach right now: "server1>198.18.0.254" */
type Unreachable = Set<string>;

function pingConfig(ipfail: boolean, nodes = [{ name: ROUTER, hosts: [ROUTER] }]): Partial<MachineConfig> {
  return { ping: { nodes, deadpingMs: DEADPING, ipfail } };
}

/** Ping every echo interval from `n` (as the daemon's pinger does), replies fed as ping-reply events. */
function pinger(sim: Sim, name: string, hosts: string[], down: Unreachable): void {
  const n = (): SimNode => sim.node(name);
  const round = (): void => {
    const node = n();
    if (node.exited) return;
    for (const h of hosts) if (!down.has(`${name}>${h}`)) sim.at(sim.now + 1, () => sim.feed(node, { type: 'ping-reply', host: h }));
    sim.at(sim.now + ECHO, round);
  };
  round();
}

/** `phaseMs`: how much later in the echo interval server2 pings than server1 */
function pair(mode: AutoFailback, ipfail = true, hosts = [ROUTER], nodes?: { name: string; hosts: string[] }[], phaseMs = 0) {
  const down: Unreachable = new Set();
  const sim = new Sim(baseConfig({ autoFailback: mode, ...pingConfig(ipfail, nodes) }));
  sim.add('server1');
  pinger(sim, 'server1', hosts, down);
  sim.runFor(12_000 + phaseMs);
  sim.add('server2');
  pinger(sim, 'server2', hosts, down);
  sim.runFor(8_000);
  return { sim, down };
}

const sentTypes = (n: SimNode, type: string) => n.sent.filter((m) => getField(m, 't') === type);

test('ping nodes come up with Heartbeat\'s wording and a quiet start: no giveup while both see the router', () => {
  const { sim } = pair('on');
  assert.deepEqual(sim.holders(), ['server1']);
  const s1 = sim.node('server1');
  assert.deepEqual(s1.log.filter((l) => l.event.startsWith('ping-node')).map((l) => l.text), [`Link ${ROUTER}:${ROUTER} up.`, `Status update for node ${ROUTER}: status ping`]);
  for (const n of ['server1', 'server2']) assert.equal(sim.events(n, 'ipfail-giveup').length, 0, `${n} gave nothing up`);
  const st = s1.m.getStatus();
  assert.deepEqual(st.pingNodes!.map((p) => [p.name, p.status]), [[ROUTER, 'ping']]);
  assert.equal(st.ipfail!.count, 1);
  const ask = sentTypes(sim.node('server2'), 'num_ping_nodes').at(-1)!;
  assert.equal(getField(ask, 'num_ping'), '1');
  assert.equal(getField(ask, 'dest'), 'server1', 'num_ping_nodes goes to the peer, as ipfail sendnodemsg');
  // the addressing the real ipfail's messages carry (captured from Heartbeat 3.0.6, docs/facts/heartbeat-wire.md)
  assert.deepEqual(ask.fields.slice(0, 6).map((f) => `${f.name}=${f.value}`), ['t=num_ping_nodes', 'num_ping=1', 'dest=server1', 'from_id=ipfail', 'to_id=ipfail', 'client_gen=0']);
  assert.equal(ask.fields[6]!.name, 'destuuid');
});

test('ipfail: the holder loses its ping node → dead after deadping, told you_are_dead, gives everything up after 1.5 echo intervals', () => {
  const { sim, down } = pair('on');
  const t0 = sim.now;
  down.add(`server1>${ROUTER}`);
  sim.runFor(DEADPING + KEEPALIVE + 2 * KEEPALIVE + 500);
  const dead = sim.events('server1', 'ping-node-dead')[0]!;
  assert.equal(dead.text, `node ${ROUTER}: is dead`);
  assert.ok(dead.t >= t0 + DEADPING - ECHO && dead.t <= t0 + DEADPING + ECHO, `dead ${dead.t - t0} ms after the last reply window`);
  assert.equal(sentTypes(sim.node('server2'), 'you_are_dead').length, 1, 'server2 (sees more) sends you_are_dead');
  assert.equal(sim.events('server1', 'ipfail-told').length, 1);
  const giveup = sim.events('server1', 'ipfail-giveup')[0]!;
  assert.ok(giveup.t - dead.t >= 1.5 * ECHO && giveup.t - dead.t < 1.5 * ECHO + 50, `giveup ${giveup.t - dead.t} ms after the death`);
  assert.deepEqual(sim.holders(), ['server2']);
  const moved = sim.resourceLog.find((r) => r.node === 'server2' && r.op === 'acquire')!;
  assert.ok(moved.t - t0 < DEADPING + 1.5 * ECHO + 200, `the VIP moved ${moved.t - t0} ms after the ping node became unreachable`);
});

test('ipfail + auto_failback on: the ping node answers again → counts balanced → the group goes home', () => {
  const { sim, down } = pair('on');
  down.add(`server1>${ROUTER}`);
  sim.runFor(10_000);
  assert.deepEqual(sim.holders(), ['server2']);
  down.delete(`server1>${ROUTER}`);
  sim.runFor(5_000);
  assert.ok(sim.events('server2', 'ipfail-balanced').length >= 1);
  assert.equal(sim.events('server2', 'ipfail-failback').length, 1, 'server2 gives its foreign group back');
  assert.deepEqual(sim.holders(), ['server1']);
});

test('ipfail + auto_failback off: balanced again → the group stays where it is', () => {
  const { sim, down } = pair('off');
  down.add(`server1>${ROUTER}`);
  sim.runFor(10_000);
  assert.deepEqual(sim.holders(), ['server2']);
  down.delete(`server1>${ROUTER}`);
  sim.runFor(8_000);
  assert.equal(sim.events('server2', 'ipfail-failback').length, 0);
  assert.deepEqual(sim.holders(), ['server2']);
});

test('the peer loses its ping node: the holder keeps everything (it sees more)', () => {
  const { sim, down } = pair('on');
  down.add(`server2>${ROUTER}`);
  sim.runFor(10_000);
  assert.deepEqual(sim.holders(), ['server1']);
  assert.equal(sentTypes(sim.node('server1'), 'you_are_dead').length, 1);
  assert.equal(sim.events('server2', 'ipfail-giveup').length, 1, 'server2 gives up (it holds nothing: no move)');
});

test('both lose the ping node: balanced, nothing moves — also when the holder sees it die almost an interval before its peer', () => {
  // server2 echoes 5 ms before server1's next echo; the loss lands at every point of the interval, so in some
  // runs the holder's last reply is ~295 ms older than its peer's and the holder declares the death first
  for (let shiftMs = 0; shiftMs < ECHO; shiftMs += 25) {
    const { sim, down } = pair('on', true, [ROUTER], undefined, ECHO - 5);
    sim.runFor(shiftMs);
    down.add(`server1>${ROUTER}`);
    down.add(`server2>${ROUTER}`);
    sim.runFor(10_000);
    assert.deepEqual(sim.holders(), ['server1'], `loss ${shiftMs} ms into the interval`);
    for (const n of ['server1', 'server2']) assert.equal(sim.events(n, 'ipfail-giveup').length, 0, `${n}, loss ${shiftMs} ms into the interval`);
  }
});

test('echo interval: every keepalive, but at least ten per deadping', () => {
  assert.equal(echoIntervalMs(1000, 30_000), 1000);
  assert.equal(echoIntervalMs(200, 1000), 100);
  assert.equal(echoIntervalMs(1000, 5000), 500);
  assert.equal(echoIntervalMs(5, 40), 10, 'never below 10 ms');
});

test('without ipfail the ping node is watched and reported, but nothing moves', () => {
  const { sim, down } = pair('on', false);
  down.add(`server1>${ROUTER}`);
  sim.runFor(10_000);
  assert.equal(sim.events('server1', 'ping-node-dead').length, 1);
  assert.deepEqual(sim.holders(), ['server1']);
  assert.equal(sentTypes(sim.node('server1'), 'num_ping_nodes').length, 0);
  assert.equal(sim.node('server1').m.getStatus().ipfail, undefined);
});

test('ping_group: alive while any member answers; dead only when none does', () => {
  const group = [{ name: 'routers', hosts: ['198.18.0.253', ROUTER] }];
  const { sim, down } = pair('on', true, group[0]!.hosts, group);
  down.add(`server1>${ROUTER}`);
  sim.runFor(10_000);
  assert.equal(sim.events('server1', 'ping-node-dead').length, 0, 'one member still answers');
  assert.deepEqual(sim.holders(), ['server1']);
  down.add('server1>198.18.0.253');
  sim.runFor(10_000);
  assert.equal(sim.events('server1', 'ping-node-dead')[0]!.text, 'node routers: is dead');
  assert.deepEqual(sim.holders(), ['server2']);
});
