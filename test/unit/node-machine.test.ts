import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sim, baseConfig } from './node-sim.js';
import { buildMessage, getField } from '../../src/codecs/heartbeat/message.js';

/** server1 starts alone, takes the VIP after initdead; server2 joins. */
function steadyPair(over = {}): Sim {
  const sim = new Sim(baseConfig(over));
  sim.add('server1');
  sim.runFor(12_000);
  sim.add('server2');
  sim.runFor(5_000);
  return sim;
}

function lastDelivered(sim: Sim, from: string, before: number): number {
  const msgs = sim.wire.filter((w) => w.from === from && w.t <= before && getField(w.msg, 'seq') !== undefined);
  return msgs[msgs.length - 1]!.t + sim.latencyMs;
}

test('start-up: status init then up, fields in Heartbeat send order, dt in hex ms', () => {
  const sim = new Sim(baseConfig());
  const n = sim.add('server1');
  const [first, second] = n.sent;
  assert.deepEqual(first!.fields.map((f) => f.name), ['t', 'st', 'dt', 'protocol', 'src', 'srcuuid', 'seq', 'hg', 'ts', 'ld', 'ttl']);
  assert.equal(getField(first!, 'st'), 'init');
  assert.equal(getField(second!, 'st'), 'up');
  assert.equal(getField(first!, 'dt'), '1388');
  assert.equal(getField(first!, 'seq'), '1');
  assert.equal(getField(second!, 'seq'), '2');
  assert.equal(getField(first!, 'hg'), '100');
  assert.equal(first!.fields[5]!.type, 1, 'srcuuid is binary');
});

test('initdead: a node alone declares its peer dead exactly at initdead and takes the group', () => {
  const sim = new Sim(baseConfig());
  const start = sim.now;
  sim.add('server1');
  sim.runFor(9_999);
  assert.equal(sim.events('server1', 'initdead').length, 0);
  assert.deepEqual(sim.holders(), []);
  sim.runFor(1);
  const ev = sim.events('server1', 'initdead');
  assert.equal(ev.length, 1);
  assert.equal(ev[0]!.t, start + 10_000);
  sim.runFor(100);
  assert.deepEqual(sim.holders(), ['server1']);
});

test('steady state: one holder, status every keepalive, no warnings, NS_ackmsg sent', () => {
  const sim = steadyPair();
  sim.runFor(20_000);
  assert.deepEqual(sim.holders(), ['server1']);
  for (const n of ['server1', 'server2']) {
    assert.equal(sim.events(n, 'late-heartbeat').length, 0);
    assert.equal(sim.events(n, 'peer-dead').length, 0);
  }
  const s2 = sim.node('server2').sent.filter((m) => getField(m, 't') === 'status');
  const times = sim.wire.filter((w) => w.from === 'server2' && getField(w.msg, 't') === 'status').map((w) => w.t);
  const gaps = times.slice(-10).map((t, i, a) => (i ? t - a[i - 1]! : 1000));
  assert.ok(gaps.every((g) => g <= 1000), `status gaps ${gaps}`);
  assert.ok(s2.length > 20);
  assert.ok(sim.node('server2').sent.some((m) => getField(m, 't') === 'NS_ackmsg'));
  const st = sim.node('server2').m.getStatus();
  assert.equal(st.peers[0]!.status, 'active');
  assert.equal(st.groups[0]!.holder, 'server1');
});

test('death is declared exactly at deadtime, warning at warntime; the backup takes over', () => {
  const sim = steadyPair();
  sim.partition('server1', 'server2');
  const cutAt = sim.now;
  sim.runFor(10_000);
  const last = lastDelivered(sim, 'server1', cutAt);
  assert.ok(last <= cutAt + 1, `last ${last} cut ${cutAt}`);
  const warn = sim.events('server2', 'late-heartbeat');
  const dead = sim.events('server2', 'peer-dead');
  assert.equal(warn.length, 1);
  assert.equal(warn[0]!.t, last + 3000);
  assert.equal(dead.length, 1);
  assert.equal(dead[0]!.t, last + 5000, 'death at exactly deadtime');
  const acq = sim.resourceLog.find((r) => r.node === 'server2' && r.op === 'acquire')!;
  assert.equal(acq.t, last + 5000 + sim.resourceMs);
  assert.ok(sim.holders().includes('server2'));
});

test('auto_failback on: a restarted primary gets its group back', () => {
  const sim = steadyPair();
  sim.crash('server1');
  sim.runFor(6_000);
  assert.deepEqual(sim.holders(), ['server2']);
  sim.restart('server1');
  sim.runFor(3_000);
  assert.deepEqual(sim.holders(), ['server1']);
  // outage during failback: server2 released before server1 acquired, with only messages in between
  const rel = sim.resourceLog.filter((r) => r.node === 'server2' && r.op === 'release').pop()!;
  const acq = sim.resourceLog.filter((r) => r.node === 'server1' && r.op === 'acquire').pop()!;
  assert.ok(acq.t >= rel.t && acq.t - rel.t < 50, `failback gap ${acq.t - rel.t} ms`);
  assert.ok(sim.events('server2', 'auto-failback').length === 1);
});

test('auto_failback off: the backup keeps the group after the primary returns', () => {
  const sim = steadyPair({ autoFailback: 'off' });
  sim.crash('server1');
  sim.runFor(6_000);
  sim.restart('server1');
  sim.runFor(15_000);
  assert.deepEqual(sim.holders(), ['server2']);
  assert.equal(sim.node('server1').m.getStatus().groups[0]!.holder, 'server2');
});

test('auto_failback legacy: the home node takes its group back at start', () => {
  const sim = steadyPair({ autoFailback: 'legacy' });
  assert.deepEqual(sim.holders(), ['server1']);
  sim.crash('server1');
  sim.runFor(6_000);
  assert.deepEqual(sim.holders(), ['server2']);
  sim.restart('server1');
  sim.runFor(4_000);
  assert.deepEqual(sim.holders(), ['server1']);
  const req = sim.wire.find((w) => getField(w.msg, 't') === 'ip-request')!;
  assert.equal(getField(req.msg, 'ipaddr'), 'IPaddr::198.18.0.20/24', 'names the address as Heartbeat’s req_resource does');
  assert.ok(sim.wire.some((w) => getField(w.msg, 't') === 'ip-request-resp' && w.from === 'server2'));
});

test('auto_failback legacy: one ip-request per group (its key), the group taken only on the ip-request-resp', () => {
  // as the real 3.0.6 does: its req_resource sends ipaddr=<first resource of the haresources line>; the peer's
  // rc.d/ip-request answers only after its IPaddr stop finished (about 1 s there; 3 s here, longer than the
  // 2 keepalives hadiag used to wait before taking the group anyway, which left both nodes holding the VIP)
  const label = 'server1 IPaddr::198.18.0.20/255.255.255.0/eth0 IPaddr::198.18.0.21';
  const sim = steadyPair({ autoFailback: 'legacy', groups: [{ node: 'server1', label, ips: ['IPaddr::198.18.0.20/255.255.255.0/eth0', 'IPaddr::198.18.0.21'] }] });
  sim.crash('server1');
  sim.runFor(6_000);
  assert.deepEqual(sim.holders(), ['server2']);
  sim.resourceMs = 3_000;
  const restartAt = sim.now;
  sim.restart('server1');
  sim.runFor(10_000);
  assert.deepEqual(sim.holders(), ['server1']);
  const reqs = sim.wire.filter((w) => w.t >= restartAt && getField(w.msg, 't') === 'ip-request');
  assert.deepEqual(reqs.map((w) => getField(w.msg, 'ipaddr')), ['IPaddr::198.18.0.20/255.255.255.0/eth0'], 'one request, naming the group by its key');
  const resp = sim.wire.find((w) => w.t >= restartAt && getField(w.msg, 't') === 'ip-request-resp')!;
  assert.equal(getField(resp.msg, 'weown'), 'yes');
  assert.equal(getField(resp.msg, 'ipaddr'), 'IPaddr::198.18.0.20/255.255.255.0/eth0');
  const rel = sim.resourceLog.filter((r) => r.node === 'server2' && r.op === 'release').pop()!;
  const acq = sim.resourceLog.filter((r) => r.node === 'server1' && r.op === 'acquire').pop()!;
  assert.ok(acq.t - sim.resourceMs >= rel.t, `server1 started acquiring at ${acq.t - sim.resourceMs}, server2 released at ${rel.t}`);
  assert.equal(sim.events('server1', 'ip-request-resp').length, 1);
  assert.equal(sim.events('server1', 'ip-request-timeout').length, 0);
});

test('auto_failback legacy: a peer that never answers the ip-request: the group is taken after ipRequestTimeoutMs, with a warning', () => {
  const sim = new Sim(baseConfig({ autoFailback: 'legacy', ipRequestTimeoutMs: 10_000 }));
  sim.add('server1');
  // a live server2 that sends status but has no rc.d/ip-request
  let seq = 1;
  for (let t = 0; t <= 15_000; t += 500) sim.at(sim.now + t, () => sim.inject('server1', buildMessage([['t', 'status'], ['st', 'active'], ['src', 'server2'], ['seq', (seq++).toString(16)], ['hg', '200'], ['ts', '1']])));
  sim.runFor(1_000);
  assert.equal(sim.wire.filter((w) => getField(w.msg, 't') === 'ip-request').length, 1);
  sim.runFor(8_500);
  assert.deepEqual(sim.holders(), [], 'not taken while the answer may still come');
  sim.runFor(1_000);
  assert.deepEqual(sim.holders(), ['server1']);
  assert.equal(sim.events('server1', 'ip-request-timeout').length, 1);
  assert.equal(sim.events('server1', 'ip-request-timeout')[0]!.level, 'warn');
});

test('standby and takeover commands move the group with the three-phase protocol', () => {
  const sim = steadyPair();
  sim.feed(sim.node('server1'), { type: 'command', cmd: 'standby' });
  sim.runFor(500);
  assert.deepEqual(sim.holders(), ['server2']);
  const types = sim.wire.filter((w) => getField(w.msg, 't') === 'ask_resources').map((w) => `${w.from}:${getField(w.msg, 'info')}`);
  assert.deepEqual(types.slice(0, 4), ['server1:me', 'server2:other', 'server1:done', 'server2:done']);
  sim.runFor(2_000);
  sim.feed(sim.node('server1'), { type: 'command', cmd: 'takeover' });
  sim.runFor(500);
  assert.deepEqual(sim.holders(), ['server1']);
});

test('graceful shutdown: shutdone makes the peer take over at once', () => {
  const sim = steadyPair();
  const t0 = sim.now;
  sim.feed(sim.node('server1'), { type: 'command', cmd: 'shutdown' });
  sim.runFor(200);
  assert.ok(sim.node('server1').exited);
  assert.deepEqual(sim.holders(), ['server2']);
  const acq = sim.resourceLog.find((r) => r.node === 'server2' && r.op === 'acquire' && r.t > t0)!;
  assert.ok(acq.t - t0 < 100, `takeover ${acq.t - t0} ms after shutdown`);
  const sent = sim.node('server1').sent.map((m) => getField(m, 't'));
  assert.ok(sent.includes('resource'));
  assert.equal(sent[sent.length - 1], 'shutdone');
  assert.equal(getField(sim.node('server1').sent.at(-1)!, 'st'), 'dead');
  assert.equal(sim.events('server2', 'peer-dead').length, 0, 'no deadtime wait');
});

test('forged higher generation: counted and dropped, genuine packets keep flowing, no failover', () => {
  const sim = steadyPair();
  const s1 = sim.node('server1');
  const genuine = s1.sent.filter((m) => getField(m, 't') === 'status').at(-1)!;
  const forged = { fields: genuine.fields.map((f) => (f.name === 'hg' ? { ...f, value: 'ffffff' } : f.name === 'seq' ? { ...f, value: '1' } : f)) };
  for (let i = 0; i < 5; i++) sim.inject('server2', forged as typeof genuine);
  const forged2 = { fields: genuine.fields.map((f) => (f.name === 'hg' ? { ...f, value: 'ffffff' } : f.name === 'seq' ? { ...f, value: '2' } : f)) };
  sim.inject('server2', forged2 as typeof genuine);
  sim.runFor(30_000);
  const st = sim.node('server2').m.getStatus();
  assert.ok(st.counters.generationRejected >= 6, JSON.stringify(st.counters));
  assert.equal(st.peers[0]!.generation, 0x100);
  assert.equal(st.peers[0]!.status, 'active');
  assert.equal(sim.events('server2', 'peer-dead').length, 0);
  assert.deepEqual(sim.holders(), ['server1']);
  assert.ok(sim.events('server2', 'generation-rejected').length >= 1, 'logged');
});

test('replayed genuine packets and forged seq jumps are rejected without wedging the peer', () => {
  const sim = steadyPair();
  const s1 = sim.node('server1');
  const old = s1.sent.filter((m) => getField(m, 't') === 'status').slice(-5, -3);
  sim.runFor(3_000);
  for (const m of old) sim.inject('server2', m);
  const last = s1.sent.filter((m) => getField(m, 't') === 'status').at(-1)!;
  const jump = { fields: last.fields.map((f) => (f.name === 'seq' ? { ...f, value: 'fffff' } : f)) };
  sim.inject('server2', jump as typeof last);
  const small = { fields: last.fields.map((f) => (f.name === 'seq' ? { ...f, value: (parseInt(getField(last, 'seq')!, 16) + 300).toString(16) } : f)) };
  sim.inject('server2', small as typeof last);
  sim.runFor(20_000);
  const c = sim.node('server2').m.getStatus().counters;
  assert.ok(c.replaysRejected >= 2, JSON.stringify(c));
  assert.ok(c.seqJumpsRejected >= 1, JSON.stringify(c));
  assert.equal(sim.events('server2', 'peer-dead').length, 0);
  assert.deepEqual(sim.holders(), ['server1']);
});

test('unknown nodes and messages without src are counted, never processed', () => {
  const sim = steadyPair();
  const m = sim.node('server1').sent.at(-1)!;
  sim.inject('server2', { fields: m.fields.map((f) => (f.name === 'src' ? { ...f, value: 'mallory' } : f)) } as typeof m);
  sim.inject('server2', { fields: m.fields.filter((f) => f.name !== 'src') } as typeof m);
  sim.runFor(100);
  const c = sim.node('server2').m.getStatus().counters;
  assert.equal(c.unknownNode, 1);
  assert.equal(c.malformedFields, 1);
});

test('a real restart (new generation, old one silent) is accepted', () => {
  const sim = steadyPair();
  sim.crash('server1');
  sim.runFor(1_500);
  sim.restart('server1');
  sim.runFor(3_000);
  const st = sim.node('server2').m.getStatus();
  assert.equal(st.peers[0]!.generation, 0x101);
  assert.equal(st.counters.generationChanges, 1);
  assert.equal(st.peers[0]!.status, 'active');
});

test('partition heal (auto_failback on): both held the VIP, settles to the home node without restart', () => {
  const sim = steadyPair();
  sim.partition('server1', 'server2');
  sim.runFor(8_000);
  assert.deepEqual(sim.holders().sort(), ['server1', 'server2']);
  const healAt = sim.now;
  sim.heal('server1', 'server2');
  sim.runFor(3_000);
  assert.deepEqual(sim.holders(), ['server1']);
  const rel = sim.resourceLog.find((r) => r.node === 'server2' && r.op === 'release' && r.t >= healAt)!;
  assert.ok(rel.t - healAt <= 1_100, `settled ${rel.t - healAt} ms after heal`);
  assert.equal(sim.resourceLog.filter((r) => r.node === 'server1' && r.op === 'release').length, 0, 'home node never dropped it');
  assert.ok(sim.events('server1', 'contest').some((e) => /keeping/.test(e.text)), 'the keeper announces again');
  assert.ok(!sim.node('server1').exited && !sim.node('server2').exited);
});

test('partition heal (auto_failback off): whoever held it first keeps it', () => {
  const sim = steadyPair({ autoFailback: 'off' });
  sim.crash('server1');
  sim.runFor(6_000);
  sim.restart('server1');
  sim.runFor(15_000);
  assert.deepEqual(sim.holders(), ['server2']);
  sim.partition('server1', 'server2');
  sim.runFor(8_000);
  assert.deepEqual(sim.holders().sort(), ['server1', 'server2']);
  sim.heal('server1', 'server2');
  sim.runFor(3_000);
  assert.deepEqual(sim.holders(), ['server2']);
});

test('retransmission: a lost message is asked for (NS_rexmit) and resent from history', () => {
  const sim = steadyPair();
  // drop exactly one status from server1 to server2
  sim.cut.add('server1>server2');
  sim.runFor(1_000);
  sim.cut.delete('server1>server2');
  sim.runFor(2_000);
  const c2 = sim.node('server2').m.getStatus().counters;
  const c1 = sim.node('server1').m.getStatus().counters;
  assert.ok(c2.retransmitRequests >= 1, JSON.stringify(c2));
  assert.ok(c1.retransmitsSent >= 1, JSON.stringify(c1));
});

test('reqnodes is answered with repnodes in Heartbeat field order', () => {
  const sim = steadyPair();
  const s1 = sim.node('server1');
  const base = s1.sent.at(-1)!;
  const req = { fields: [
    { name: 't', type: 0, value: 'reqnodes' }, { name: 'dest', type: 0, value: 'server2' },
    ...base.fields.filter((f) => ['src', 'srcuuid', 'hg', 'ts', 'ld', 'ttl'].includes(f.name)),
  ] } as typeof base;
  // give it a fresh seq so it is accepted
  const seq = (parseInt(getField(base, 'seq')!, 16) + 1).toString(16);
  req.fields.splice(4, 0, { name: 'seq', type: 0, value: seq });
  sim.inject('server2', req);
  sim.runFor(5);
  const rep = sim.node('server2').sent.find((m) => getField(m, 't') === 'repnodes')!;
  assert.ok(rep);
  assert.deepEqual(rep.fields.slice(0, 5).map((f) => f.name), ['dest', 't', 'nodelist', 'delnodelist', 'destuuid']);
  assert.equal(getField(rep, 'nodelist'), 'server1 server2 ');
});

test('after shutdone, late packets of the stopped incarnation do not bring the node back', () => {
  const sim = steadyPair();
  const s1 = sim.node('server1');
  const lastStatus = s1.sent.filter((m) => getField(m, 't') === 'status').at(-1)!;
  sim.feed(s1, { type: 'command', cmd: 'shutdown' });
  sim.runFor(100);
  const seq = (parseInt(getField(s1.sent.at(-1)!, 'seq')!, 16) + 1).toString(16);
  sim.inject('server2', { fields: lastStatus.fields.map((f) => (f.name === 'seq' ? { ...f, value: seq } : f)) } as typeof lastStatus);
  sim.runFor(100);
  const st = sim.node('server2').m.getStatus();
  assert.equal(st.peers[0]!.status, 'dead');
  assert.equal(sim.events('server2', 'peer-up').filter((e) => e.t > sim.now - 200).length, 0);
});

test('partition heals in quick succession: the keeper announces again at every heal (no 5 s silence)', () => {
  const sim = steadyPair({ keepaliveMs: 100, deadtimeMs: 500, warntimeMs: 300 });
  for (let i = 0; i < 3; i++) {
    sim.partition('server1', 'server2');
    sim.runFor(1_500);
    assert.deepEqual(sim.holders().sort(), ['server1', 'server2'], `cut ${i + 1}: both hold`);
    const healAt = sim.now;
    sim.heal('server1', 'server2');
    sim.runFor(1_000);
    assert.deepEqual(sim.holders(), ['server1'], `heal ${i + 1}: settled`);
    const a = sim.announceLog.filter((x) => x.node === 'server1' && x.t >= healAt);
    assert.equal(a.length, 1, `heal ${i + 1} (${(healAt / 1000).toFixed(1)} s): the keeper announced once`);
    assert.ok(a[0]!.t - healAt <= 300, `announced ${a[0]!.t - healAt} ms after the heal`);
  }
});
