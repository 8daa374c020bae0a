import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectHeartbeats, type Datagram, type InspectOptions } from '../../src/models/inspect/heartbeats.js';
import { readHeartbeatCapture } from '../../src/effects/io/heartbeat-capture.js';
import { formatMessageLine, formatSummary } from '../../src/commands/render/inspect.js';
import { encodeMessage } from '../../src/codecs/heartbeat/codec.js';
import { buildMessage } from '../../src/codecs/heartbeat/message.js';
import { authDigest, type AuthKeyLike } from '../../src/codecs/heartbeat/auth.js';
import { FIXTURES, keyMap, SHA1_KEY } from './wire-fixtures.js';

const cycle = (await readHeartbeatCapture(FIXTURES + 'heartbeat-3.0.6/hb-cycle.pcap', 694)).datagrams;
const FIXTURE_OPTS: InspectOptions = { keys: keyMap(SHA1_KEY), nodes: ['server1', 'server2'], keepaliveMs: 1000, deadtimeMs: 5000 };

test('hb-cycle.pcap: 209 messages, both layers OK, healthy, with stop/start/takeover/partition/failback', () => {
  const r = inspectHeartbeats(cycle, FIXTURE_OPTS);
  assert.equal(r.messages.length, 209);
  assert.ok(r.messages.every((m) => m.trailing === 'ok' && m.inner === 'ok' && m.authOk));
  assert.deepEqual(r.counts, { datagrams: 209, decoded: 209, undecodable: 0, authOk: 209, authFailed: 0, duplicates: 0 });
  assert.deepEqual(r.warnings, []);
  assert.equal(r.healthy, true);
  const ev = r.events.map((e) => `${e.kind} ${e.node}${e.peer ? ' ' + e.peer : ''}`);
  // The story of hb-cycle.times: both stop, both start, server1's link down (server2 takes over), partition, failback.
  const expected = [
    'stop server2',
    'takeover server1 server2',
    'stop server1',
    'start server2',
    'start server1',
    'acquire server1',
    'silent server1',
    'dead server2 server1',
    'takeover server2 server1',
    'partition server1 server2',
    'failback server1 server2',
  ];
  let at = 0;
  for (const e of ev) if (e === expected[at]) at++;
  assert.equal(at, expected.length, `events out of order or missing: ${ev.join(' | ')}`);
  const times = Object.fromEntries(
    `stop=1795603585.611698242 start=1795603595.724164471 link_down=1795603610.621527586 link_up=1795603619.627430915`.split(' ').map((kv) => {
      const [k, v] = kv.split('=');
      return [k!, Number(v) * 1000];
    }),
  );
  const first = (kind: string) => r.events.find((e) => e.kind === kind)!.tsMs;
  assert.ok(Math.abs(first('stop') - times.stop!) < 1000, 'stop near the scripted stop');
  assert.ok(Math.abs(first('start') - times.start!) < 1000, 'start near the scripted start');
  assert.ok(first('partition') - times.link_up! > 0 && first('partition') - times.link_up! < 3000, 'partition seen after link up');
  const tk = r.events.find((e) => e.kind === 'takeover' && e.node === 'server2')!.tsMs;
  assert.ok(tk - times.link_down! > 4000 && tk - times.link_down! < 8000, 'takeover about deadtime after link down');

  const s1 = r.nodes.find((n) => n.node === 'server1')!;
  const s2 = r.nodes.find((n) => n.node === 'server2')!;
  assert.equal(s1.messages + s2.messages, 209);
  assert.ok(s1.statusIntervalMs! > 900 && s1.statusIntervalMs! < 1100);
  assert.equal(s1.seqGaps, 12, 'server1 messages lost while its link was down');
  assert.equal(s2.seqGaps, 0);
  assert.deepEqual(s1.generations, [0x6b06b66c, 0x6b06b66d, 0x6b06b66e]);
  assert.equal(s1.lastDeadtimeMs, 5000);
  assert.deepEqual(s1.keyIndexes, [2]);
  assert.equal(s1.inHaCf, true);
});

test('hb-cycle.pcap with a wrong key: every message BAD on both layers, not healthy', () => {
  const r = inspectHeartbeats(cycle, { ...FIXTURE_OPTS, keys: keyMap({ index: 2, method: 'sha1', key: 'wrong' }) });
  assert.ok(r.messages.every((m) => m.trailing === 'bad' && m.inner === 'bad' && !m.authOk));
  assert.equal(r.counts.authFailed, 209);
  assert.equal(r.healthy, false);
  assert.ok(r.warnings.some((w) => w.kind === 'auth-failure' && w.message.startsWith('209 of 209')));
  assert.match(formatMessageLine(r.messages[0]!), /auth trailing BAD, field BAD/);
  assert.equal(r.nodes.reduce((n, s) => n + s.authFailures, 0), 209);
});

test('an unknown key index and no keys are told apart', () => {
  const unknown = inspectHeartbeats(cycle.slice(0, 5), { keys: keyMap({ index: 1, method: 'sha1', key: 'pass' }) });
  assert.match(formatMessageLine(unknown.messages[0]!), /trailing key index 2 unknown, field key index 2 unknown/);
  assert.equal(unknown.healthy, false);
  const none = inspectHeartbeats(cycle.slice(0, 5));
  assert.match(formatMessageLine(none.messages[0]!), /trailing no key given, field no key given/);
  assert.equal(none.healthy, true);
  assert.ok(none.notes.some((n) => /not checked/.test(n)));
  assert.match(formatSummary(none), /auth was not verified/);
});

// --------------------------------------------------------------------------------- synthetic traffic

const K1: AuthKeyLike = { index: 1, method: 'md5', key: 'k1' };
const K2: AuthKeyLike = { index: 2, method: 'sha1', key: 'k2' };
let clock = 1_800_000_000_000;

function status(node: string, seq: number, hg: number, opts: { dt?: number; key?: AuthKeyLike; dst?: string; at?: number; st?: string } = {}): Datagram {
  const msg = buildMessage([
    ['t', 'status'],
    ['st', opts.st ?? 'active'],
    ['dt', (opts.dt ?? 5000).toString(16)],
    ['protocol', '1'],
    ['src', node],
    ['seq', seq.toString(16)],
    ['hg', hg.toString(16)],
    ['ts', '6b06b670'],
    ['ttl', '3'],
  ]);
  clock = opts.at ?? clock + 500;
  const ip = node === 'server1' ? '198.18.0.11' : node === 'server2' ? '198.18.0.12' : '198.18.0.13';
  return { tsMs: clock, src: ip, srcPort: 40000, dst: opts.dst ?? '198.18.0.255', dstPort: 694, payload: encodeMessage(msg, opts.key ?? K1) };
}

const keys = keyMap(K1, K2);
const kinds = (ds: Datagram[], o: InspectOptions = {}) => inspectHeartbeats(ds, { keys, nodes: ['server1', 'server2'], ...o }).warnings.map((w) => w.kind);

test('a clean synthetic exchange is healthy', () => {
  const ds = [1, 2, 3, 4].flatMap((i) => [status('server1', i, 10), status('server2', i, 10)]);
  const r = inspectHeartbeats(ds, { keys, nodes: ['server1', 'server2'], keepaliveMs: 1000, deadtimeMs: 5000 });
  assert.deepEqual(r.warnings, []);
  assert.equal(r.healthy, true);
  assert.equal(r.nodes[0]!.statusIntervalMs, 1000);
});

test('warnings: node not in ha.cf, two generations at once, 0.0.0.0, deadtimes, key indexes, junk, inner auth', () => {
  assert.deepEqual(kinds([status('server1', 1, 10), status('server3', 1, 10)]), ['unknown-node']);
  assert.deepEqual(kinds([status('server1', 1, 10), status('server1', 1, 11), status('server1', 2, 10)]), ['two-generations']);
  assert.deepEqual(kinds([status('server1', 1, 10, { dst: '0.0.0.0' }), status('server1', 2, 10, { dst: '0.0.0.0' })]), ['zero-destination']);
  assert.deepEqual(kinds([status('server1', 1, 10, { dt: 5000 }), status('server2', 1, 10, { dt: 10000 })]), ['deadtime-mismatch']);
  assert.deepEqual(kinds([status('server1', 1, 10), status('server2', 1, 10)], { deadtimeMs: 30000 }), ['deadtime-mismatch', 'deadtime-mismatch']);
  assert.deepEqual(kinds([status('server1', 1, 10, { key: K1 }), status('server2', 1, 10, { key: K2 })]), ['key-index-mismatch']);
  const junk: Datagram = { tsMs: clock + 1, src: '198.18.0.99', srcPort: 1, dst: '198.18.0.255', dstPort: 694, payload: Buffer.from('###\n99:junk') };
  const r = inspectHeartbeats([status('server1', 1, 10), junk], { keys });
  assert.deepEqual(r.warnings.map((w) => w.kind), ['undecodable']);
  assert.equal(r.messages[1]!.error!.code, 'truncated');
  assert.match(formatMessageLine(r.messages[1]!), /not a Heartbeat message: truncated/);
  assert.equal(r.healthy, false);
  // A valid trailing token over a bad auth field: accepted by 3.0.6, still reported.
  const good = status('server1', 1, 10);
  const text = good.payload.toString('latin1');
  const authAt = text.indexOf('(0)auth=1 ') + 10;
  const forged = Buffer.from(text.slice(0, authAt) + (text[authAt] === '0' ? '1' : '0') + text.slice(authAt + 1), 'latin1');
  const body = forged.subarray(0, forged.indexOf('%%%\n') + 4);
  const trailer = `1 ${authDigest('md5', 'k1', body)}`;
  const resigned = Buffer.concat([body, Buffer.from(`${trailer.length}:${trailer},`)]);
  const r2 = inspectHeartbeats([{ ...good, payload: resigned }], { keys });
  assert.deepEqual(r2.warnings.map((w) => w.kind), ['auth-failure', 'inner-auth-mismatch']);
  assert.equal(r2.messages[0]!.trailing, 'ok');
  assert.equal(r2.messages[0]!.inner, 'bad');
});

test('duplicates are listed once and not counted twice; restarts and silence become events', () => {
  const a = status('server1', 1, 10);
  const r = inspectHeartbeats([a, { ...a, tsMs: a.tsMs + 1 }, status('server1', 2, 10)], { keys });
  assert.equal(r.messages[1]!.duplicate, true);
  assert.equal(r.nodes[0]!.messages, 2);
  assert.match(formatMessageLine(r.messages[1]!), /\(duplicate\)/);

  const t0 = clock + 1000;
  const server2 = Array.from({ length: 12 }, (_, i) => status('server2', i + 1, 20, { at: t0 + 10 + i * 1000 }));
  const before = [status('server1', 1, 20, { at: t0, st: 'init' }), status('server1', 2, 20, { at: t0 + 1000 })];
  const restart = status('server1', 1, 21, { at: t0 + 12000, st: 'init' }); // after 11 s of silence: new generation
  const byTime = (ds: Datagram[]) => ds.sort((x, y) => x.tsMs - y.tsMs);
  const r1 = inspectHeartbeats(byTime([...before, ...server2, restart]), { keys, deadtimeMs: 5000 });
  assert.deepEqual(r1.events.map((e) => `${e.kind} ${e.node}`), ['start server1', 'start server1']);
  assert.match(r1.events[1]!.detail, /generation 15 after 11\.0 s of silence/);
  const ev2 = inspectHeartbeats(byTime([...before, ...server2]), { keys, deadtimeMs: 5000 }).events;
  assert.deepEqual(ev2.map((e) => `${e.kind} ${e.node}`), ['start server1', 'silent server1']);
  assert.match(ev2[1]!.detail, /until the end of the capture/);
});

test('the summary text has the table, events and verdict', () => {
  const out = formatSummary(inspectHeartbeats(cycle, FIXTURE_OPTS));
  assert.match(out, /209 datagrams over 1 m 5 s: 209 Heartbeat messages, 0 not decodable; auth OK on 209, failed on 0/);
  assert.match(out, /│ server1 │ 198\.18\.0\.11 │ 102 +│ 1\.00 s \(keepalive 1\.00 s\)/);
  assert.match(out, /failback +server1 took back IPaddr::198\.18\.0\.20\/24\/hbA-eth0 from server2/);
  assert.match(out, /hb-inspect: healthy — every message passes both auth layers/);
});

test('the command refuses bad usage before touching any interface', async () => {
  const { hbInspectCommand } = await import('../../src/commands/hb-inspect.js');
  const { HadiagError } = await import('../../src/core/errors.js');
  const handler = hbInspectCommand.handler as (a: Record<string, unknown>) => Promise<void>;
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ duration: '10s', json: false }, /nothing to inspect/],
    [{ iface: 'hdnoiface0', read: 'x.pcap', duration: '10s', json: false }, /not both/],
    [{ iface: 'hdnoiface0', duration: '10', json: false }, /has no unit/],
    [{ read: 'x.pcap', port: 70000, duration: '10s', json: false }, /not a UDP port/],
  ];
  for (const [args, re] of cases) {
    await assert.rejects(handler(args), (err: unknown) => err instanceof HadiagError && err.exitCode === 2 && re.test(err.render()));
  }
});

test('any sequence of mutated or forged datagrams is inspected without an exception', async () => {
  const fc = (await import('fast-check')).default;
  const payloads = cycle.map((d) => d.payload);
  const datagram = fc.record({
    i: fc.nat(payloads.length - 1),
    flip: fc.option(fc.record({ at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) })),
    cut: fc.option(fc.nat()),
    dt: fc.integer({ min: -5000, max: 60_000 }),
    dst: fc.constantFrom('198.18.0.255', '0.0.0.0'),
  });
  fc.assert(
    fc.property(fc.array(datagram, { maxLength: 25 }), fc.boolean(), (items, withKeys) => {
      let t = 1_800_000_000_000;
      const ds: Datagram[] = items.map((x) => {
        let p = Buffer.from(payloads[x.i]!);
        if (x.flip) p[x.flip.at % p.length] = p[x.flip.at % p.length]! ^ x.flip.mask;
        if (x.cut !== null) p = p.subarray(0, x.cut % (p.length + 1));
        t += x.dt;
        return { tsMs: t, src: '198.18.0.11', srcPort: 1, dst: x.dst, dstPort: 694, payload: p };
      });
      const r = inspectHeartbeats(ds, withKeys ? FIXTURE_OPTS : {});
      assert.equal(r.messages.length, ds.length);
      assert.equal(r.counts.decoded + r.counts.undecodable, ds.length);
      assert.equal(r.healthy, r.problems.length === 0);
      for (const m of r.messages) formatMessageLine(m);
      formatSummary(r);
    }),
    { numRuns: 100 },
  );
});

test('a start is recognised when the node sends an NS_ackmsg just before its first status (seen on real 3.0.6)', () => {
  const t0 = clock + 10_000;
  const ack: Datagram = {
    tsMs: t0,
    src: '198.18.0.12',
    srcPort: 40000,
    dst: '198.18.0.255',
    dstPort: 694,
    payload: encodeMessage(buildMessage([['t', 'NS_ackmsg'], ['dest', 'server2'], ['ackseq', '1'], ['src', 'server2'], ['hg', '1e'], ['ts', '1e']]), K1),
  };
  const r = inspectHeartbeats([ack, status('server2', 1, 0x1e, { st: 'init', at: t0 + 1 }), status('server2', 2, 0x1e, { st: 'up', at: t0 + 2 })], { keys });
  assert.deepEqual(r.events.map((e) => `${e.kind} ${e.node}`), ['start server2']);
  // A node already running when the capture starts has no start event.
  const running = inspectHeartbeats([status('server1', 7, 0x1e, { at: t0 + 3 }), status('server1', 8, 0x1e, { at: t0 + 1003 })], { keys });
  assert.deepEqual(running.events, []);
});

test('real start (heartbeat-start/start.pcap): both starts found although server2 begins with an NS_ackmsg', async () => {
  const ds = (await readHeartbeatCapture(FIXTURES + 'heartbeat-start/start.pcap', 694)).datagrams;
  const r = inspectHeartbeats(ds, { keys: keyMap({ index: 3, method: 'sha1', key: 'live-test-key' }), nodes: ['server1', 'server2'] });
  assert.equal(r.messages.find((m) => m.node === 'server2')!.summary.type, 'NS_ackmsg');
  assert.deepEqual(r.events.filter((e) => e.kind === 'start').map((e) => e.node), ['server1', 'server2']);
  assert.equal(r.counts.authOk, ds.length);
  assert.equal(r.healthy, true);
});

test('ipfail.pcap (the real Heartbeat 3.0.6 + ipfail): the ping-node exchange and both standby hand-overs are cluster events', async () => {
  const dir = FIXTURES + 'heartbeat-ipfail/';
  const { datagrams } = await readHeartbeatCapture(dir + 'ipfail.pcap', 694);
  const r = inspectHeartbeats(datagrams, { keys: keyMap(SHA1_KEY), nodes: ['server1', 'server2'], keepaliveMs: 200, deadtimeMs: 1000 });
  assert.equal(r.healthy, true);
  assert.deepEqual(
    r.events.map((e) => `${e.kind} ${e.node}${e.peer ? ` ${e.peer}` : ''}`),
    [
      'ping-nodes server1 server2',
      'ping-nodes server2 server1',
      'standby server1',
      'takeover server2 server1',
      'ping-nodes server1 server2',
      'ping-nodes server2 server1',
      'standby server2',
      'failback server1 server2',
    ],
  );
  assert.match(r.events[0]!.detail, /^server1 sees 0 ping node\(s\)/);
  assert.match(r.events[1]!.detail, /you_are_dead/);
  assert.match(r.events[2]!.detail, /hands over all its resources \(ipfail gives up\)/);
  assert.match(r.events[4]!.detail, /^server1 sees 1 ping node\(s\)/);
  assert.match(r.events[5]!.detail, /balanced \(ipfail abort_giveup/);
});
