import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readHeartbeatCapture } from '../../src/effects/io/heartbeat-capture.js';
import { decodeMessage } from '../../src/codecs/heartbeat/codec.js';
import { getField, type HbMessage } from '../../src/codecs/heartbeat/message.js';
import { NodeMachine } from '../../src/models/node/machine.js';
import { Sim, baseConfig } from './node-sim.js';

const FIXTURE = join(import.meta.dirname, '../fixtures/heartbeat-3.0.6/hb-cycle.pcap');

async function realMessages(): Promise<{ tsMs: number; src: string; msg: HbMessage }[]> {
  const { datagrams } = await readHeartbeatCapture(FIXTURE, 694);
  return datagrams.map((d) => {
    const r = decodeMessage(d.payload);
    assert.ok(r.ok);
    return { tsMs: d.tsMs, src: d.src, msg: r.msg };
  });
}

const names = (m: HbMessage) => m.fields.map((f) => f.name).filter((n) => n !== 'auth');
const key = (m: HbMessage) => `${getField(m, 't')}${getField(m, 'info') ? ':' + getField(m, 'info') : ''}`;

test('our messages carry the fields of Heartbeat 3.0.6 in its order (hb-cycle.pcap)', async () => {
  const real = new Map<string, string[]>();
  for (const { msg } of await realMessages()) if (!real.has(key(msg))) real.set(key(msg), names(msg));
  // drive two machines through start, failover, failback, standby and shutdown
  const sim = new Sim(baseConfig());
  sim.add('server1');
  sim.runFor(12_000);
  sim.add('server2');
  sim.runFor(15_000);
  sim.feed(sim.node('server1'), { type: 'command', cmd: 'standby' });
  sim.runFor(2_000);
  sim.feed(sim.node('server2'), { type: 'command', cmd: 'shutdown' });
  sim.runFor(2_000);
  const ours = new Map<string, string[]>();
  for (const w of sim.wire) if (!ours.has(key(w.msg))) ours.set(key(w.msg), names(w.msg));
  let compared = 0;
  for (const [k, fields] of ours) {
    const r = real.get(k);
    if (!r) continue;
    assert.deepEqual(fields, r, `field order of ${k}`);
    compared++;
  }
  for (const k of ['status', 'NS_ackmsg', 'starting', 'resource', 'shutdone', 'resource:shutdown', 'resource:req_our_resources()', 'ask_resources:done']) {
    assert.ok(ours.has(k) && real.has(k), `${k} compared`);
  }
  assert.ok(compared >= 8, `compared ${compared} message kinds`);
});

test('a machine fed the real capture follows server2 through stop, restart and takeover without rejecting genuine traffic', async () => {
  const msgs = await realMessages();
  const t0 = msgs[0]!.tsMs;
  const m = new NodeMachine(
    { ...baseConfig({ initdeadMs: 10_000 }), node: 'server1', generation: 1, uuid: Buffer.alloc(16, 1) },
    { now: t0 - 5_000 },
  );
  m.start(t0 - 5_000);
  const events: string[] = [];
  for (const { tsMs, msg } of msgs) {
    if (getField(msg, 'src') !== 'server2') continue;
    for (const a of [...m.handle({ type: 'tick' }, tsMs), ...m.handle({ type: 'message', msg, from: { ip: '198.18.0.12', port: 694 } }, tsMs)]) {
      if (a.type === 'log') events.push(a.event);
    }
  }
  const c = m.getStatus().counters;
  assert.equal(c.malformedFields, 0);
  assert.equal(c.unknownNode, 0);
  assert.equal(c.replaysRejected, 0, JSON.stringify(c));
  assert.equal(c.seqJumpsRejected, 0, JSON.stringify(c));
  assert.ok(c.generationChanges >= 2, `server2 restarted twice: ${JSON.stringify(c)}`);
  assert.ok(events.includes('peer-shutdown'), 'shutdone seen');
  assert.ok(events.filter((e) => e === 'peer-up').length >= 2, events.join(','));
});
