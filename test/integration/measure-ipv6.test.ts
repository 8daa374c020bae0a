/**
 * measure-failover --vip IPV6 in namespaces (server1, server2, client on one bridge; addresses from
 * 2001:db8::/64 added with nodad): the client runs the CLI with a trigger that moves the VIP from server1 to
 * server2, which then announces it with garp-check --send (an NA as RFC 4861 wants, or one without the override
 * flag) or sends nothing; then the client drops unsolicited NAs; last, the VIP is added with DAD. Each outage is checked against an independent truth (tcpdump on the client's bridge
 * port, read back with tcpdump's own decoder) and its cause named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Topology, labMac } from '../../src/effects/io/netns.js';
import { run, runOk } from '../../src/effects/io/exec.js';

const VIP = '2001:db8::20';
const CLIENT = '2001:db8::5';
const REPO = resolve(import.meta.dirname, '../..');
const CLI = [process.execPath, '--import', 'tsx', join(REPO, 'test/integration/lab-cli.ts')];
const INTERVAL_MS = 5;

/** The client's bridge port: its ICMPv6 echo requests and replies, kernel timestamps, read by tcpdump. */
async function startTruth(netns: string, iface: string, file: string): Promise<() => Promise<{ startTsMs: number; endTsMs: number; durationMs: number }>> {
  const td = spawn('ip', ['netns', 'exec', netns, 'tcpdump', '-i', iface, '-U', '-n', '-w', file, 'icmp6'], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((res, rej) => {
    let err = '';
    td.stderr!.on('data', (d) => (err += d) && /listening on/.test(err) && res());
    td.once('close', () => rej(new Error(`truth tcpdump: ${err}`)));
  });
  return async () => {
    process.kill(td.pid!, 'SIGINT');
    await new Promise((r) => td.once('close', r));
    const out = (await run(['tcpdump', '-tt', '-n', '-r', file])).stdout;
    const req = new Map<number, number>();
    const rep = new Map<number, number>();
    for (const line of out.split('\n')) {
      const m = /^(\d+\.\d+) IP6 (\S+) > (\S+): ICMP6, echo (request|reply), id \d+, seq (\d+)/.exec(line);
      if (!m) continue;
      const [ts, seq] = [Number(m[1]) * 1000, Number(m[5])];
      if (m[4] === 'request' && m[2] === CLIENT && m[3] === VIP && !req.has(seq)) req.set(seq, ts);
      if (m[4] === 'reply' && m[2] === VIP && m[3] === CLIENT && !rep.has(seq)) rep.set(seq, ts);
    }
    const seqs = [...req.keys()].sort((a, b) => a - b);
    for (let i = 0; i < seqs.length; i++) {
      const s = seqs[i]!;
      if (rep.has(s)) continue;
      let j = i;
      while (j < seqs.length && !rep.has(seqs[j]!)) j++;
      if (j - i >= 3 && j < seqs.length) return { startTsMs: req.get(s)!, endTsMs: rep.get(seqs[j]!)!, durationMs: rep.get(seqs[j]!)! - req.get(s)! };
      i = j;
    }
    throw new Error(`no outage on the client's port (${req.size} requests, ${rep.size} replies)`);
  };
}

test('measure-failover --vip IPv6: NA accepted → detection-bound; NA without override / drop_unsolicited_na → announcements-ignored (why); no NA → no-announcement; DAD named', { timeout: 180_000 }, async () => {
  const topo = await Topology.create({
    hosts: [
      { name: 'server1', addresses: ['198.18.0.11/24'], mac: labMac(11) },
      { name: 'server2', addresses: ['198.18.0.12/24'], mac: labMac(12) },
      { name: 'client', addresses: ['198.18.0.5/24'], mac: labMac(5) },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), `hadiag-m6-${topo.runId}-`));
  try {
    const [h1, h2, c] = [topo.host('server1'), topo.host('server2'), topo.host('client')];
    const six = (ns: string, ...a: string[]) => runOk(['ip', 'netns', 'exec', ns, 'ip', '-6', ...a]);
    for (const [h, ip] of [[h1, '2001:db8::11'], [h2, '2001:db8::12'], [c, CLIENT]] as const) await six(h.netns, 'addr', 'add', `${ip}/64`, 'dev', h.ifname, 'nodad');
    // the client's IPv6 neighbour timers shrunk: a dead MAC is given up within ~1 + 3 × 0.25 s of going STALE
    const cs = (k: string, v: string) => runOk(['ip', 'netns', 'exec', c.netns, 'sysctl', '-qw', `net.ipv6.neigh.${c.ifname}.${k}=${v}`]);
    await cs('base_reachable_time_ms', '2000');
    await cs('delay_first_probe_time', '1');
    await cs('retrans_time_ms', '250');
    const sh = (ns: string, cmd: string) => `ip netns exec ${ns} ${cmd}`;
    const move = (from: typeof h1, to: typeof h1) => [sh(from.netns, `ip -6 addr del ${VIP}/64 dev ${from.ifname}`), sh(to.netns, `ip -6 addr add ${VIP}/64 dev ${to.ifname} nodad`)].join(' && ');
    const announce = (h: typeof h1, spec: string) => sh(h.netns, `${CLI.join(' ')} garp-check ${h.ifname} --vip ${VIP} --send ${spec} >/dev/null 2>&1`);

    const cases: { name: string; before?: () => Promise<unknown>; trigger: (from: typeof h1, to: typeof h1) => string; expect: (o: any) => void }[] = [
      {
        name: 'na',
        trigger: (f, t) => `${move(f, t)} && ${announce(t, 'na:count=3,interval=200ms')}`,
        expect: (o) => {
          assert.equal(o.diagnosis.cause, 'detection-bound', o.diagnosis.sentence);
          assert.equal(o.learnedBy, 'announcement');
          assert.ok(o.announcements.some((a: any) => a.form === 'unsolicited-na' && a.verdict?.accepted), JSON.stringify(o.announcements));
        },
      },
      {
        name: 'na:override=off',
        trigger: (f, t) => `${move(f, t)} && ${announce(t, 'na:override=off,count=3,interval=200ms')}`,
        expect: (o) => {
          assert.equal(o.diagnosis.cause, 'announcements-ignored', o.diagnosis.sentence);
          assert.match(o.diagnosis.sentence, /override flag clear/);
          assert.ok(o.diagnosis.evidence.some((l: string) => /kernel's verdict .*not taken: override flag clear/.test(l)), o.diagnosis.evidence.join('\n'));
        },
      },
      {
        name: 'none',
        trigger: (f, t) => move(f, t),
        expect: (o) => {
          assert.equal(o.diagnosis.cause, 'no-announcement', o.diagnosis.sentence);
          assert.equal(o.learnedBy, 'own-resolution');
          assert.ok(o.broadcastRequests.length >= 1, 'the client asked by multicast NS');
        },
      },
      {
        name: 'drop_unsolicited_na',
        before: () => runOk(['ip', 'netns', 'exec', c.netns, 'sysctl', '-qw', `net.ipv6.conf.${c.ifname}.drop_unsolicited_na=1`]),
        trigger: (f, t) => `${move(f, t)} && ${announce(t, 'na:count=3,interval=200ms')}`,
        expect: (o) => {
          assert.equal(o.diagnosis.cause, 'announcements-ignored', o.diagnosis.sentence);
          assert.match(o.diagnosis.sentence, /drop_unsolicited_na=1/);
          assert.match(o.diagnosis.fixes[0].detail, /drop_unsolicited_na=0/);
        },
      },
      {
        name: 'dad',
        before: () => runOk(['ip', 'netns', 'exec', c.netns, 'sysctl', '-qw', `net.ipv6.conf.${c.ifname}.drop_unsolicited_na=0`]),
        // the VIP added WITH duplicate-address detection: its DAD probe reaches the client
        trigger: (f, t) => `${move(f, t).replace(/ nodad$/, '')} && ${announce(t, 'na:count=3,interval=200ms')}`,
        expect: (o) => {
          assert.ok(o.dadProbes?.length >= 1, 'the DAD probe was seen');
          assert.match(o.diagnosis.sentence, /ran duplicate-address detection/);
          assert.equal(o.diagnosis.fixes[0].title, 'add the VIP without DAD');
        },
      },
    ];
    await six(h1.netns, 'addr', 'add', `${VIP}/64`, 'dev', h1.ifname, 'nodad');
    let holder = h1;
    let other = h2;
    for (const k of cases) {
      await k.before?.();
      const stopTruth = await startTruth(topo.bridgeNetns, c.bridgePort, join(dir, `truth-${k.name}.pcap`));
      const r = await run(['ip', 'netns', 'exec', c.netns, ...CLI, 'measure-failover', '--vip', VIP, '--interval', `${INTERVAL_MS}ms`, '--timeout', '30s', '--trigger', k.trigger(holder, other), '--write', join(dir, `client-${k.name}.pcap`), '--json'], { cwd: REPO });
      const truth = await stopTruth();
      assert.ok(r.stdout.trim().startsWith('{'), `${k.name}: exit ${r.code}\n${r.stderr}`);
      const a = JSON.parse(r.stdout);
      assert.equal(a.family, 6);
      const o = a.outages.find((x: any) => x.durationMs > 100);
      assert.ok(o, `${k.name}: an outage: ${JSON.stringify(a.outages.map((x: any) => x.durationMs))}`);
      const err = o.durationMs - truth.durationMs;
      console.log(`${k.name}: hadiag ${o.durationMs.toFixed(2)} ms, port truth ${truth.durationMs.toFixed(2)} ms (${err >= 0 ? '+' : ''}${err.toFixed(3)} ms); ${o.macBefore} → ${o.macAfter}; ${o.diagnosis.cause}: ${o.diagnosis.sentence}`);
      for (const l of o.diagnosis.evidence) console.log(`  · ${l}`);
      // within one probe interval + a wide margin of the client's own port
      assert.ok(Math.abs(err) <= INTERVAL_MS + 10, `${k.name}: hadiag ${o.durationMs} vs truth ${truth.durationMs}`);
      assert.deepEqual([o.macBefore, o.macAfter], [holder.mac, other.mac]);
      k.expect(o);
      [holder, other] = [other, holder];
    }
  } finally {
    await topo.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
