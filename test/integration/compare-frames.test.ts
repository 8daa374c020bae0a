/**
 * Each compare-garp strategy on a real wire: a node namespace announces with the node's announcer (or runs
 * arping / send_arp), a client namespace captures with tcpdump, and every captured frame equals the planned
 * one byte for byte. directed / unicast-reply address the client the node learned from its ARP request;
 * answer-probes answers the client's real unicast probe to a dead MAC (flooded by the bridge); vmac sends
 * from the macvlan's virtual MAC.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { Topology, labMac, nsSpawn, killPid } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { parsePcap } from '../../src/codecs/pcap.js';
import { parseStrategy, planAnnouncements } from '../../src/models/strategy/language.js';
import { vmacOf } from '../../src/models/strategy/forms.js';
import { externalArgv, externalProgram } from '../../src/effects/announce/external.js';
import { vmacCommands } from '../../src/effects/lab/managers/hadiag.js';
import { moduleArgv } from '../../src/core/module-argv.js';

const root = process.getuid?.() === 0;
const NET = '198.19.7';
const VIP = `${NET}.20`;
let topo: Topology;
let dir: string;

before(async () => {
  if (!root) return;
  dir = mkdtempSync(join(tmpdir(), 'hadiag-cmpf-'));
  topo = await Topology.create({
    hosts: [
      { name: 'node', addresses: [`${NET}.12/24`], mac: labMac(12) },
      { name: 'client', addresses: [`${NET}.5/24`], mac: labMac(5) },
    ],
  });
  const c = topo.host('client');
  for (const [k, v] of Object.entries({ delay_first_probe_time: 1, base_reachable_time_ms: 30000 })) await topo.exec('client', ['sysctl', '-q', '-w', `net.ipv4.neigh.${c.ifname}.${k}=${v}`]);
});
after(async () => {
  if (!root) return;
  await topo?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

async function capture(name: string, filter: string): Promise<{ stop: () => Promise<Buffer[]> }> {
  const c = topo.host('client');
  const file = join(dir, `${name}.pcap`);
  const child = nsSpawn(c.netns, ['tcpdump', '-i', c.ifname, '-U', '-n', '--immediate-mode', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) resolve();
    });
    setTimeout(resolve, 3000);
  });
  return {
    stop: async () => {
      await sleep(200);
      await killPid(child.pid!, 1000);
      await sleep(100);
      return parsePcap(readFileSync(file)).records.map((r) => r.data);
    },
  };
}

function startChild(spec: string, iface: string, holdMs: number): { child: ChildProcess; next: () => Promise<Record<string, unknown>> } {
  const n = topo.host('node');
  const argv = [...moduleArgv('effects/compare/trial-client-main').slice(0, -1), new URL('./compare-announce-child.ts', import.meta.url).pathname, spec, iface, `${VIP}/24`, String(holdMs)];
  const child = nsSpawn(n.netns, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  const waiters: ((x: Record<string, unknown>) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const m = JSON.parse(l) as Record<string, unknown>;
    const w = waiters.shift();
    if (w) w(m);
    else lines.push(m);
  });
  return { child, next: () => (lines.length ? Promise.resolve(lines.shift()!) : new Promise((r) => waiters.push(r))) };
}

async function cleanVip(iface: string) {
  await topo.exec('node', ['ip', 'addr', 'del', `${VIP}/24`, 'dev', iface]);
  await topo.exec('client', ['ip', 'neigh', 'flush', 'to', VIP]);
}

/** Run one frame strategy through the announcer; returns captured frames (from `srcMac`) and the child's report. */
async function viaAnnouncer(spec: string, opts: { iface?: string; srcMac?: string; holdMs?: number; beforeAnnounce?: () => Promise<void>; whileHeld?: () => Promise<void> } = {}) {
  const n = topo.host('node');
  const iface = opts.iface ?? n.ifname;
  const mac = opts.srcMac ?? n.mac;
  const { child, next } = startChild(spec, iface, opts.holdMs ?? 2500);
  assert.deepEqual(await next(), { ready: true });
  // the client asks for the VIP (nobody holds it yet): the node learns the client from that request
  await topo.exec('client', ['arping', '-c', '1', '-w', '1', '-I', topo.host('client').ifname, VIP]);
  await opts.beforeAnnounce?.();
  const cap = await capture(spec.replace(/[^a-z]/g, ''), `arp and ether src ${mac}`);
  child.stdin!.write('announce\n');
  const announced = await next();
  await opts.whileHeld?.();
  if (opts.holdMs === 0) child.stdin!.write('close\n');
  const done = await next();
  const frames = await cap.stop();
  await cleanVip(iface);
  return { frames, announced, done, mac };
}

const client = () => ({ ip: `${NET}.5`, mac: topo.host('client').mac });

test('directed: one request per learned client, byte-exact on the client', { skip: !root }, async () => {
  const r = await viaAnnouncer('directed:count=2,interval=300ms');
  assert.deepEqual(r.announced.clients, [client()], 'learned from its ARP request');
  const plan = planAnnouncements(parseStrategy('directed:count=2,interval=300ms'), { vip: VIP, mac: r.mac, clients: [client()] });
  assert.equal(r.frames.length, 2);
  r.frames.forEach((f, i) => assert.deepEqual(f, plan[i]!.frame));
});

test('unicast-reply: a reply to the client MAC, byte-exact', { skip: !root }, async () => {
  const r = await viaAnnouncer('unicast-reply:count=1');
  const plan = planAnnouncements(parseStrategy('unicast-reply:count=1'), { vip: VIP, mac: r.mac, clients: [client()] });
  assert.deepEqual(r.frames, [plan[0]!.frame]);
  assert.equal(r.frames[0]!.subarray(0, 6).toString('hex'), topo.host('client').mac.replace(/:/g, ''));
});

test('answer-probes: GARP rounds, then the client’s unicast probe to a dead MAC is answered and the entry moves', { skip: !root }, async () => {
  const dead = '02:00:00:00:0d:ea';
  const c = topo.host('client');
  let lladdr: string | undefined;
  const r = await viaAnnouncer('answer-probes:count=1', {
    holdMs: 0,
    whileHeld: async () => {
      // the client believes the VIP is at a dead MAC: its next use probes that MAC by unicast
      await topo.exec('client', ['ip', 'neigh', 'replace', VIP, 'lladdr', dead, 'dev', c.ifname, 'nud', 'stale']);
      await topo.exec('client', ['ping', '-c', '4', '-i', '0.5', '-W', '1', VIP]);
      await sleep(300);
      const entry = await topo.exec('client', ['ip', '-json', 'neigh', 'show', 'to', VIP, 'dev', c.ifname]);
      lladdr = (JSON.parse(entry.stdout || '[]') as { lladdr?: string }[])[0]?.lladdr;
    },
  });
  const plan = planAnnouncements(parseStrategy('answer-probes:count=1'), { vip: VIP, mac: r.mac });
  assert.deepEqual(r.frames.slice(0, 2), plan.map((p) => p.frame));
  const answers = r.frames.slice(2);
  assert.ok(answers.length >= 1, 'the probe was answered');
  const probeAnswer = planAnnouncements(parseStrategy(`unicast-reply:${NET}.5@${c.mac},count=1`), { vip: VIP, mac: r.mac })[0]!.frame;
  assert.deepEqual(answers[0], probeAnswer);
  assert.ok((r.done.events as string[]).some((e) => e.startsWith('probe-answered') && e.includes(dead)));
  assert.equal(lladdr, r.mac, 'the client entry moved to the node');
});

test('vmac: announcements come from the virtual MAC of a macvlan', { skip: !root }, async () => {
  const n = topo.host('node');
  const s = parseStrategy('vmac:count=2,interval=200ms');
  for (const argv of vmacCommands(n.ifname, vmacOf(s))) await topo.exec('node', argv);
  try {
    const r = await viaAnnouncer('vmac:count=2,interval=200ms', { iface: 'vmac0', srcMac: vmacOf(s) });
    const plan = planAnnouncements(s, { vip: VIP, mac: vmacOf(s) });
    assert.deepEqual(r.frames, plan.map((p) => p.frame));
  } finally {
    await topo.exec('node', ['ip', 'link', 'del', 'vmac0']);
  }
});

for (const spec of ['arping:U,count=2', 'arping:A,count=2', 'send_arp:count=2,interval=200ms']) {
  test(`${spec}: the external program's frames equal the plan`, { skip: !root }, async () => {
    const n = topo.host('node');
    const s = parseStrategy(spec);
    await topo.exec('node', ['ip', 'addr', 'add', `${VIP}/24`, 'dev', n.ifname]);
    const cap = await capture(s.form, `arp and ether src ${n.mac}`);
    const r = await topo.exec('node', externalArgv(s, externalProgram(s), n.ifname, VIP, s.bursts[0]!), { timeoutMs: 10_000 });
    assert.equal(r.code, 0, `${spec} exited ${r.code}: ${r.stderr}`);
    const frames = await cap.stop();
    await cleanVip(n.ifname);
    const plan = planAnnouncements(s, { vip: VIP, mac: n.mac });
    assert.equal(frames.length, plan.length);
    // same frames; send_arp alternates request/reply just as planned
    frames.forEach((f, i) => assert.deepEqual(f, plan[i]!.frame, `frame ${i}`));
  });
}
