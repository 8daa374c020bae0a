/**
 * Forged traffic against a running pair of hadiag nodes (keepalive 1 s, deadtime 5 s: the node believes a
 * new generation or a seq jump only after two silent keepalives, so a busy machine's late heartbeats at
 * shorter timers would blur the result), from a third host on the LAN: wrong key, unknown
 * node, right key with a higher generation (the packet that wedged the real 3.0.6 daemon), seq jumps,
 * replays of captured genuine packets and junk. Membership must stay correct (no false failover, no peer
 * declared dead, genuine packets still accepted afterwards), and every rejection must be counted in the
 * node status (`hadiag node status`, whose text is checked too).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeLab, writeConfig, startNode, stopNode, waitFor, vipHolders, logEvents, REPO, type NodeProc } from './node-helpers.js';
import { controlRequest } from '../../src/effects/node/daemon.js';
import { captureGenuine, counters, delta, forge } from './harden-helpers.js';
import { nsRun } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { rm } from 'node:fs/promises';
import { run } from '../../src/effects/io/exec.js';

const RATE = 100;
const COUNT = 150; // 1.5 s of each kind, all kinds at once

/** UDP datagrams dropped by the kernel in a namespace (receive buffer full, bad checksum). */
async function udpDrops(netns: string): Promise<number> {
  const r = await nsRun(netns, ['cat', '/proc/net/snmp']);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  const head = lines[0]!.split(/\s+/);
  const vals = lines[1]!.split(/\s+/).map(Number);
  return vals[head.indexOf('InErrors')]!; // includes RcvbufErrors
}

async function nodeStatus(p: NodeProc): Promise<Record<string, any>> {
  const r = await controlRequest(p.stateDir, 'status');
  assert.ok(r.ok && r.status, `no status from ${p.name}`);
  return r.status as Record<string, any>;
}

test('forged heartbeat traffic is rejected, counted, and never causes a failover', { timeout: 120_000 }, async () => {
  const { topo, dir } = await makeLab();
  const nodes: NodeProc[] = [];
  try {
    for (const n of ['server1', 'server2']) writeConfig(join(dir, n, 'ha.d'), topo.host(n).ifname, { keepalive: '1', deadtime: '5', warntime: '3', initdead: '6' });
    nodes.push(startNode(topo, dir, 'server1'), startNode(topo, dir, 'server2'));
    const [s1, s2] = nodes as [NodeProc, NodeProc];
    await waitFor('the VIP on server1 only', async () => (await vipHolders(topo)).join() === 'server1', 60_000, 200);
    await waitFor('server2 to see server1 active', async () => (await nodeStatus(s2)).peers[0]?.status === 'active', 10_000);

    // a genuine capture for the replays, taken before the attack
    const pcap = join(dir, 'genuine.pcap');
    await captureGenuine(topo, 'client', '198.18.0.11', pcap, 1500);

    // watch the VIP for the whole attack: it must never be anywhere but server1
    let watching = true;
    const seen = new Set<string>();
    const watcher = (async () => {
      while (watching) {
        seen.add((await vipHolders(topo)).join('+') || 'nobody');
        await sleep(100);
      }
    })();

    await sleep(2500); // past the duplicate window: replays of the capture count as replays
    // datagrams the kernel dropped before the node could read them (a busy machine): the only loss allowed
    await nsRun(topo.host('server2').netns, ['sysctl', '-qw', 'net.core.rmem_default=4194304']).catch(() => undefined);
    const drops0 = await udpDrops(topo.host('server2').netns);
    const st0 = await nodeStatus(s2);
    const c0 = counters(st0);
    const gen1 = Number(st0.peers[0].generation);
    const seq1 = Number(st0.peers[0].maxSeq ?? 1);
    const common = ['--member', 'server1', '--generation', String(gen1), '--seq', String(seq1 + 5), '--rate', String(RATE), '--count', String(COUNT)];
    const kinds = ['wrong-key', 'unknown-node', 'higher-gen', 'seq-jump', 'junk'];
    const results = await Promise.all([
      ...kinds.map((kind) => forge(topo, [...common, '--kind', kind])),
      forge(topo, ['--replay', pcap, '--rate', String(RATE), '--count', String(COUNT)]),
    ]);
    const sent: Record<string, number> = Object.fromEntries(results.map((r) => [r.kind, r.sent]));
    // genuine traffic keeps flowing after the attack: more than a deadtime without a failover
    await sleep(6000);
    watching = false;
    await watcher;

    const st1 = await nodeStatus(s2);
    const drops = (await udpDrops(topo.host('server2').netns)) - drops0;
    const c1 = counters(st1);
    const d = (k: string) => delta(c1, c0, k);
    const events = s2.logs.filter((l) => ['peer-dead', 'generation-change', 'takeover'].includes(String(l.event))).map((l) => l.text);
    const ctx = JSON.stringify({ sent, kernelDrops: drops, counters: Object.fromEntries(Object.keys(c1).map((k) => [k, d(k)])), events });
    assert.deepEqual([...seen], ['server1'], `the VIP moved during the attack: ${[...seen]} ${ctx}`);
    assert.equal(logEvents(s2, 'peer-dead').length, 0, 'server2 declared server1 dead');
    assert.equal(st1.peers[0].status, 'active', 'server2 no longer sees server1 active');
    assert.equal(Number(st1.peers[0].generation), gen1, 'server2 ended on a forged generation');
    // a forged generation may be adopted for a moment when genuine heartbeats are 2 keepalives late (a busy
    // machine); it must never stick. Reported, not failed:
    const flips = logEvents(s2, 'generation-change').length;
    if (flips) process.stderr.write(`harden-forged: server2 switched generation ${flips} time(s) during the attack (genuine heartbeats late)\n`);
    assert.ok(d('accepted') >= 5, `genuine packets stopped being accepted after the attack ${ctx}`);
    // every rejection counted: what was sent, less what the kernel dropped on a full receive buffer
    const atLeast = (n: number) => n - drops;
    assert.ok(d('authFailures') >= atLeast(sent['wrong-key']!), `wrong key not counted ${ctx}`);
    assert.ok(d('unknownNode') >= atLeast(sent['unknown-node']!), `unknown node not counted ${ctx}`);
    assert.ok(d('malformed') + d('authFailures') >= atLeast(sent.junk! + sent['wrong-key']!), `junk not all rejected ${ctx}`);
    // right key, member server1: a higher generation, a seq jump or a replay is each rejected by the replay guard
    // (complete only while genuine heartbeats arrive on time: when they are two keepalives late — a machine
    // this busy — the node adopts a forged generation for a while and accepts its packets; see the report)
    const guarded = d('generationRejected') + d('seqJumpsRejected') + d('replaysRejected') + d('duplicates');
    const flipped = logEvents(s2, 'generation-change').length > 0;
    if (!flipped) {
      assert.ok(guarded >= atLeast(sent['higher-gen']! + sent['seq-jump']! + sent.replay!), `right-key forgeries not all rejected ${ctx}`);
      assert.ok(d('generationRejected') >= atLeast(sent['higher-gen']!), `higher generation not counted ${ctx}`);
      assert.ok(d('seqJumpsRejected') >= 1 && d('replaysRejected') + d('duplicates') >= 1, `seq jumps / replays not counted ${ctx}`);
    }
    // server1 saw forged copies of itself and the rest: it must not have moved either
    assert.equal(logEvents(s1, 'peer-dead').length, 0, `server1 declared server2 dead: ${JSON.stringify(s1.logs.filter((l) => /dead|late/.test(String(l.event))).map((l) => l.text))}`);

    // what an operator sees: `hadiag node status` prints the counters
    const cli = await run(
      [process.execPath, '--import', 'tsx', '-e', `import('./src/cli/main.ts').then((m) => m.main(process.argv.slice(1)))`, 'node', 'status', '--state-dir', s2.stateDir],
      { cwd: REPO },
    );
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`forged generations rejected ${c1.generationRejected}\\b`));
    assert.match(cli.stdout, new RegExp(`auth failures ${c1.authFailures}\\b`));
    assert.match(cli.stdout, new RegExp(`unknown nodes ${c1.unknownNode}\\b`));
  } finally {
    for (const p of nodes) await stopNode(p, 'SIGKILL', 2000);
    await topo.teardown();
    await rm(dir, { recursive: true, force: true });
  }
});
