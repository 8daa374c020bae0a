import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNodeArgs } from '../../src/effects/node/main.js';
import { DEFAULT_GARP, DEFAULT_GARP_ALIAS, DEFAULT_STATE_DIR } from '../../src/effects/node/options.js';
import { FALLBACK_GARP } from '../../src/effects/announce/node-announcer.js';
import { HadiagError } from '../../src/core/errors.js';
import { parseStrategy } from '../../src/models/strategy/language.js';
import { renderNodeStatus, nodeHealthy } from '../../src/commands/node.js';

test('node daemon options: defaults as Heartbeat, flags parsed, unknown flags are usage errors', () => {
  const d = parseNodeArgs([]);
  assert.equal(d.configDir, '/etc/ha.d');
  assert.equal(d.stateDir, DEFAULT_STATE_DIR);
  assert.equal(d.garp, DEFAULT_GARP_ALIAS, 'default: DEFAULT_GARP for an IPv4 VIP, DEFAULT_GARP6 for an IPv6 one');
  assert.equal(d.node, undefined, 'uname -n at run time');
  assert.equal(d.capture, false);
  const o = parseNodeArgs(['--config-dir', 'x', '--node', 'n2', '--state-dir', 's', '--garp', 'reply:count=3', '--capture', '--capture-dir', 'c', '--json']);
  assert.deepEqual([o.configDir, o.node, o.stateDir, o.garp, o.capture, o.captureDir, o.json], ['x', 'n2', 's', 'reply:count=3', true, 'c', true]);
  assert.throws(() => parseNodeArgs(['--bogus']), (e: unknown) => e instanceof HadiagError && /bogus/.test(e.render()));
});

test('the default strategy is directed (compare-garp evidence), falling back to send_arp-like rounds', () => {
  const s = parseStrategy(DEFAULT_GARP, '--garp');
  assert.equal(s.form, 'directed');
  assert.ok(s.bursts.reduce((a, b) => a + b, 0) >= 3, 'several directed requests, not one');
  const fb = parseStrategy(FALLBACK_GARP, '--garp');
  assert.equal(fb.form, 'both');
  assert.ok(fb.bursts.reduce((a, b) => a + b, 0) >= 5, 'at least as many rounds as send_arp -r 5');
  assert.ok(fb.intervalMs <= 250);
});

test('node status renders like cl_status and judges health', () => {
  const st = {
    node: 'server2', status: 'active', generation: 0x6b06d2f4, seq: 204, resourceState: 'stable', holds: 'local', standby: 'not', pid: 1,
    peers: [{ name: 'server1', status: 'active', reported: 'active', lastHeardMs: Date.now() - 200, generation: 0x6b06d2f3, ip: '198.18.0.11' }],
    groups: [{ index: 0, label: 'server1 IPaddr::198.18.0.20/24', home: 'server1', holder: 'server1', pending: false }],
    counters: { unknownNode: 0, malformedFields: 0, replaysRejected: 2, generationRejected: 5, seqJumpsRejected: 0, duplicates: 0, retransmitRequests: 0, retransmitsSent: 0 },
    daemon: { authFailures: 3, malformed: 1, garpsSent: 20 }, media: ['bcast eth0 -> 198.18.0.255:694'], vips: [], rssBytes: 50 * 1048576,
  };
  const text = renderNodeStatus(st);
  assert.match(text, /server1 .*active/);
  assert.match(text, /auth failures 3/);
  assert.match(text, /forged generations rejected 5/);
  assert.match(text, /replays rejected 2/);
  assert.equal(nodeHealthy(st), true);
  assert.equal(nodeHealthy({ ...st, peers: [{ ...st.peers[0], status: 'dead' }] }), false);
  assert.equal(nodeHealthy({ ...st, groups: [{ ...st.groups[0], holder: null }] }), false);
  assert.doesNotMatch(text, /clients known/, 'no client line without clients');
  const withClients = renderNodeStatus({ ...st, clients: [{ ip: '198.18.0.5', mac: '02:48:44:00:00:05', source: 'peer' }, { ip: '198.18.0.6', source: 'neigh' }] });
  assert.match(withClients, /clients known \(addressed by per-client announcements\): 198\.18\.0\.5 02:48:44:00:00:05 \(peer\), 198\.18\.0\.6 \(neigh\)\n/);
});
