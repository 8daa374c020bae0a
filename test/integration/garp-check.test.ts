/**
 * Live, in namespaces: one sender and four clients on a bridge, each client with its own ARP settings and its
 * own `garp-check --json` watching. For every GARP form and every entry state (REACHABLE, STALE, none, inside
 * locktime) the test sends ONE frame and asserts that each client's prediction, made before the frame arrived,
 * equals what its kernel then did (`ip -json neigh`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { readPcap } from '../../src/effects/io/pcap-file.js';
import { Topology, killPid, labMac, nsRun, type Host } from '../../src/effects/io/netns.js';
import { startSender, startWatcher, until, type Watcher } from './garp-helpers.js';
import { sleep } from '../../src/core/clock.js';
import { run } from '../../src/effects/io/exec.js';
import { buildGarp, type ArpTargetForm, type GarpForm } from '../../src/codecs/arp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VIP = '198.18.0.20';
const OLD = '02:00:00:00:00:11';

/** The built CLI when dist/ is newer than every source file (as after `npm run setup`), else the sources via tsx. */
function newestMtime(dir: string): number {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    m = Math.max(m, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return m;
}
const distFresh = (() => {
  try {
    return statSync(join(ROOT, 'dist/cli/main.js')).mtimeMs > newestMtime(join(ROOT, 'src')) && existsSync(join(ROOT, 'dist/commands/garp-check.js'));
  } catch {
    return false;
  }
})();
const cli = (args: string[]) =>
  distFresh ? ['node', join(ROOT, 'bin/hadiag.js'), ...args] : ['node', '--import', 'tsx', '-e', `import(${JSON.stringify(ROOT + 'src/cli/main.ts')}).then((m) => m.main(process.argv.slice(1)))`, ...args];

/** Watches every ARP frame (no --vip): each case below uses its own announced address, so they run in parallel. */
const watch = (h: Host, extra: string[] = []): Watcher => startWatcher(h, cli(['garp-check', h.ifname, '--json', '--duration', '170s', ...extra]));


type State = 'REACHABLE' | 'STALE' | 'NONE';

async function setEntry(h: Host, vip: string, state: State): Promise<void> {
  if (state === 'NONE') {
    await run(['ip', '-n', h.netns, 'neigh', 'del', vip, 'dev', h.ifname]);
    return;
  }
  const r = await run(['ip', '-n', h.netns, 'neigh', 'replace', vip, 'lladdr', OLD, 'nud', state.toLowerCase(), 'dev', h.ifname]);
  assert.equal(r.code, 0, r.stderr);
}

async function readEntries(h: Host): Promise<Map<string, { state: string; mac?: string }>> {
  const r = await run(['ip', '-n', h.netns, '-4', '-json', 'neigh', 'show', 'dev', h.ifname]);
  return new Map((JSON.parse(r.stdout || '[]') as { dst: string; lladdr?: string; state: string[] }[]).map((e) => [e.dst, { state: e.state[0]!, mac: e.lladdr }]));
}

test('garp-check predicts, before each frame, what four differently configured Linux clients then do', { timeout: 330_000 }, async () => {
  const sMac = labMac(0x12);
  const topo = await Topology.create({
    hosts: [
      { name: 's', addresses: ['198.18.0.12/24'], mac: sMac },
      { name: 'c1', addresses: ['198.18.0.5/24'], mac: labMac(5) },
      { name: 'c2', addresses: ['198.18.0.6/24'], mac: labMac(6) },
      { name: 'c3', addresses: ['198.18.0.7/24'], mac: labMac(7) },
      { name: 'c4', addresses: ['198.18.0.8/24'], mac: labMac(8) },
    ],
  });
  const watchers: Watcher[] = [];
  let sender: ReturnType<typeof startSender> | undefined;
  try {
    const [c1, c2, c3, c4] = ['c1', 'c2', 'c3', 'c4'].map((n) => topo.host(n));
    const sysctl = (h: Host, k: string, v: string) => nsRun(h.netns, ['sysctl', '-q', '-w', `net.ipv4.conf.${h.ifname}.${k}=${v}`]);
    await sysctl(c2!, 'arp_accept', '1');
    await sysctl(c3!, 'drop_gratuitous_arp', '1');
    // one announced address per entry state, so that each frame form is tried on every state at once
    const CASES = { REACHABLE: '198.18.0.20', STALE: '198.18.0.21', NONE: '198.18.0.22' } as const;
    const LOCK = ['198.18.0.23', '198.18.0.24', '198.18.0.25'];
    const all = [...Object.values(CASES), ...LOCK];
    const nft = await nsRun(c4!.netns, ['nft', '-f', '-'], {
      input: `table arp hadiag_test {\n chain input {\n  type filter hook input priority 0; policy accept;\n  arp saddr ip { ${all.join(', ')} } arp daddr ip { ${all.join(', ')} } drop\n }\n}\n`,
    });
    assert.equal(nft.code, 0, nft.stderr);
    const clients = [c1!, c2!, c3!, c4!];
    const pcapPath = join(mkdtempSync(join(tmpdir(), 'hadiag-garp-live-')), 'c1.pcap');
    for (const c of clients) watchers.push(watch(c, c === c1 ? ['--write', pcapPath] : []));
    // (generous: four CLIs start at once; on a loaded 2-core machine that can take a while)
    await until(() => watchers.every((w) => w.lines.some((l) => l.type === 'listening')), 150_000, `watchers: ${watchers.map((w) => `${w.host.name}: ${w.lines.length} lines ${w.stderr}`).join('; ')}`);
    // the audits saw each client's settings
    const audit = (w: Watcher) => w.lines.find((l) => l.type === 'audit') as { sysctls: { arpAccept: number; dropGratuitousArp: boolean }; firewall: { rules: string[] }; risks: string[] };
    assert.equal(audit(watchers[1]!).sysctls.arpAccept, 1);
    assert.equal(audit(watchers[2]!).sysctls.dropGratuitousArp, true);
    assert.ok(audit(watchers[3]!).firewall.rules.some((r) => /#\d+: arp saddr ip .*drop/.test(r)), JSON.stringify(audit(watchers[3]!).firewall));
    assert.ok(audit(watchers[0]!).risks.some((r) => /up to 53 s/.test(r)));

    const tStart = Date.now();
    sender = startSender(topo.host('s'));
    const forms: { name: string; form: GarpForm; arpTarget?: ArpTargetForm }[] = [
      { name: 'request 00:00', form: 'request' },
      { name: 'reply ff:ff', form: 'reply', arpTarget: 'bcast' },
      { name: 'reply 00:00', form: 'reply', arpTarget: 'zero' },
      { name: 'reply own', form: 'reply', arpTarget: 'own' },
      { name: 'directed to c1', form: 'directed' },
      { name: 'unicast reply to c1', form: 'unicast-reply' },
    ];
    const byName = (n: string) => forms.find((x) => x.name === n)!;
    // each step: entries set, a pause, then one frame per case (address)
    type Case = { vip: string; state: State; f: (typeof forms)[number]; lock: boolean };
    const steps: { gapMs: number; cases: Case[] }[] = forms.map((f) => ({ gapMs: 1150, cases: (Object.entries(CASES) as [State, string][]).map(([state, vip]) => ({ vip, state, f, lock: false })) }));
    // inside locktime: the frame lands ~300 ms after the entry changed
    steps.push({ gapMs: 300, cases: ['reply 00:00', 'reply own', 'unicast reply to c1'].map((n, i) => ({ vip: LOCK[i]!, state: 'REACHABLE' as State, f: byName(n), lock: true })) });

    const results: string[] = [];
    const outcomes = new Map<string, number>();
    for (const step of steps) {
      await Promise.all(clients.flatMap((c) => step.cases.map((k) => setEntry(c, k.vip, k.state))));
      await sleep(step.gapMs);
      const t0 = performance.timeOrigin + performance.now();
      for (const k of step.cases) {
        await sender.send(buildGarp(k.f.form, { vip: k.vip, mac: sMac, arpTarget: k.f.arpTarget, targetIp: c1!.addresses[0]!.split('/')[0], targetMac: c1!.mac }));
      }
      await sleep(250);
      const reportOf = (w: Watcher, k: Case) => w.lines.find((l) => l.type === 'frame' && (l.tsMs as number) >= t0 - 5 && l.senderIp === k.vip && l.senderMac === sMac);
      const expected = (w: Watcher, k: Case) => !(k.f.form === 'unicast-reply' && w.host !== c1);
      // every client that gets a frame reports it (a loaded machine may take a moment)
      await until(() => watchers.every((w) => step.cases.every((k) => reportOf(w, k) || !expected(w, k))), 20_000, 'reports').catch(() => undefined);
      const tables = await Promise.all(watchers.map((w) => readEntries(w.host)));
      for (const [wi, w] of watchers.entries()) {
        for (const k of step.cases) {
          const rep = reportOf(w, k) as { prediction?: { outcome: string; stateAfter: string; macAfter?: string; reason: string } } | undefined;
          const actual = tables[wi]!.get(k.vip) ?? { state: 'NONE' };
          const what = `${k.f.name} on ${k.state}${k.lock ? ' inside locktime' : ''} at ${w.host.name}`;
          // a unicast reply to c1 never reaches the other clients' ARP code (bridge-learned unicast)
          if (!rep) {
            assert.ok(!expected(w, k), `${what}: no report (${w.stderr})`);
            continue;
          }
          const p = rep.prediction!;
          assert.ok(p, `${what}: no prediction`);
          const predicted = p.stateAfter === 'NONE' ? 'NONE' : `${p.stateAfter} ${p.macAfter}`;
          const got = actual.state === 'NONE' ? 'NONE' : `${actual.state} ${actual.mac}`;
          results.push(`${what}: predicted ${p.outcome} → ${predicted}; kernel ${got}`);
          assert.equal(got, predicted, `${what}: predicted ${predicted} (${p.outcome}: ${p.reason}), kernel has ${got}`);
          outcomes.set(p.outcome, (outcomes.get(p.outcome) ?? 0) + 1);
        }
      }
    }
    process.stderr.write(`garp-check live: ${results.length} predictions checked in ${steps.length} steps × 4 clients in ${((Date.now() - tStart) / 1000).toFixed(1)} s\n`);
    // the cases covered every outcome the model knows, including ignores for each reason
    for (const o of ['update', 'create', 'ignore']) assert.ok((outcomes.get(o) ?? 0) > 0, `no ${o} case: ${results.join('\n')}`);

    // --send from the sender: every frame is seen leaving by the second capture handle
    const sendRun = await nsRun(topo.host('s').netns, cli(['garp-check', topo.host('s').ifname, '--vip', VIP, '--send', 'both:count=2,interval=100ms', '--send', 'directed:198.18.0.5,count=1', '--json']), { cwd: ROOT, timeoutMs: 60_000 });
    assert.equal(sendRun.code, 0, sendRun.stderr + sendRun.stdout);
    const sendSummary = sendRun.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.type === 'summary');
    assert.deepEqual(
      sendSummary.send.map((r: { form: string; sent: number; seen: number }) => `${r.form} ${r.sent}/${r.seen}`),
      ['request (target MAC zero) 2/2', 'reply (target MAC own) 2/2', 'directed request to 198.18.0.5 1/1'],
    );
    assert.equal(sendSummary.send[2].stockNoEntry, 'creates → STALE');
    await until(() => watchers[0]!.lines.filter((l) => l.type === 'frame' && l.label === 'directed request to 198.18.0.5').length >= 4, 10_000, 'c1 sees the sent frames');

    for (const w of watchers) if (w.child.pid) process.kill(w.child.pid, 'SIGINT');
    const codes = await Promise.all(watchers.map((w) => w.exit));
    for (const [i, w] of watchers.entries()) {
      const summary = w.lines.find((l) => l.type === 'summary') as { verification: { checked: number; matched: number; mismatches: string[] }; healthy: boolean; problems: string[] } | undefined;
      assert.ok(summary, `${w.host.name}: no summary (${w.stderr})`);
      // garp-check's own check against ip neigh agreed with its predictions
      assert.ok(summary.verification.checked >= 10, `${w.host.name}: ${summary.verification.checked} checks`);
      assert.deepEqual(summary.verification.mismatches, [], w.host.name);
      if (i === 0) {
        const written = (summary as unknown as { written: { path: string; frames: number } }).written;
        assert.equal(written.path, pcapPath);
        const file = await readPcap(pcapPath);
        assert.equal(file.records.length, written.frames);
        assert.ok(file.records.length >= 18, `${file.records.length} frames written`);
      }
      // c3 (drop_gratuitous_arp) and c4 (nft) ignored announcements: exit 1 with that problem
      if (i >= 2) {
        assert.equal(codes[i], 1, w.host.name);
        assert.ok(summary.problems.some((p) => /ignores it/.test(p)), w.host.name);
      }
    }
  } finally {
    await sender?.stop();
    for (const w of watchers) if (w.child.pid && w.child.exitCode === null) await killPid(w.child.pid, 2000);
    await topo.teardown();
  }
});
