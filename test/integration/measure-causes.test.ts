/**
 * Each lab fault that reproduces a cause of a slow takeover yields that cause in measure-failover, with the
 * outage within 20 ms of the independent truth (the client's bridge-port capture,
 * src/effects/lab/port-truth.ts). One lab (hadiag run-node, fast timers 200 ms / 1 s, shrunk client
 * neighbour timers) for every case: loss=20 on the client's port across a link-down (lossy-path),
 * stp-takeover=4 (port-not-forwarding), switch-drop-arp across a link-down (no-announcement from the client
 * alone), no-announce (no-announcement). measure-failover is given the cluster's ha.cf (--hacf). With a
 * tcpdump on each server (--server-capture) and run-node's log (--server-log), the client's capture read back
 * gives the cross-host segments, splits no-announcement into dropped-on-path / not-sent, and a server capture
 * shifted by a known offset has that offset recovered within 1 ms (the lab's namespaces share one clock).
 * First, a plain link-down takeover measured live with run-node's own --capture pcaps of both servers
 * (SERVER_DIR/captures: only each server's own ARP) and its log: every segment, the offset from the ARP seen at
 * both ends (server → client only, no ± claimed), and that capture shifted by a known offset recovered within 1 ms.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { upLab, destroyLab } from '../../src/effects/lab/lab.js';
import { applyFault, parseFault } from '../../src/effects/lab/faults.js';
import { vipView, waitForVipHolder } from '../../src/effects/lab/vip.js';
import { clients, labHost, type LabState } from '../../src/effects/lab/types.js';
import { killPid } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { run } from '../../src/effects/io/exec.js';
import { writeFileSync } from 'node:fs';
import { servers } from '../../src/effects/lab/types.js';
import { pcapHeader, pcapRecord } from '../../src/codecs/pcap.js';
import { readPcap } from '../../src/effects/io/pcap-file.js';
import { hadiag, outagesFromPortCapture, startPortCapture, type PortTruth } from './measure-helpers.js';
import { waitFor } from './lab-helpers.js';

/** the issue's bound: each outage within 20 ms of the bridge-port truth */
const TRUTH_MS = 20;
const SHRUNK = { base_reachable_time_ms: 2000, delay_first_probe_time: 1 };

let lab: LabState | undefined;
let dir: string;
const L = () => lab!;
const client = () => clients(L())[0]!;
const fault = (spec: string, host?: string) => applyFault(L(), parseFault(spec), host);
const hacf = () => join(labHost(L(), 'server1').dir, 'ha.d', 'ha.cf');
const results: string[] = [];

before(async () => {
  lab = await upLab({ manager: 'hadiag', timers: 'fast', profiles: ['linux-default'], neigh: SHRUNK });
  dir = mkdtempSync(join(tmpdir(), 'hadiag-measure-causes-'));
});
after(async () => {
  for (const r of results) process.stderr.write(`# ${r}\n`);
  if (lab) await destroyLab(lab.id);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Resolves once the client's probes cross its bridge port (the truth capture grows). */
async function probesFlowing(portPcap: string): Promise<void> {
  const size = () => (existsSync(portPcap) ? statSync(portPcap).size : 0);
  const start = size();
  assert.ok(await waitFor(async () => (size() > start + 4096 ? true : undefined), 30_000), 'probes cross the client port');
}

async function measured(name: string, args: string[], during?: (portPcap: string) => Promise<void>, serverCaptures = false) {
  const c = client();
  const serverPcaps = serverCaptures ? servers(L()).map((h) => join(dir, `${name}-${h.name}.pcap`)) : [];
  const serverPids = serverCaptures ? await Promise.all(servers(L()).map(async (h, i) => (await startPortCapture(h.netns, h.ifname, serverPcaps[i]!)).pid)) : [];
  assert.ok(await waitFor(async () => ((await run(['ip', 'netns', 'exec', c.netns, 'ping', '-c', '1', '-W', '1', L().vip])).code === 0 ? true : undefined), 15_000), 'VIP reachable before');
  const portPcap = join(dir, `${name}.pcap`);
  const truthPid = (await startPortCapture(L().bridgeNetns, c.bridgePort, portPcap)).pid;
  try {
    const measuring = hadiag(c.netns, ['measure-failover', '--vip', L().vip, '--interval', '5ms', '--json', '--hacf', hacf(), '--write', join(dir, `${name}-m.pcap`), ...args]);
    if (during) await during(portPcap);
    const res = await measuring;
    assert.ok(res.stdout.trim().startsWith('{'), `no JSON (exit ${res.code}): ${res.stderr}`);
    let truth: PortTruth[] = [];
    try {
      truth = await outagesFromPortCapture(portPcap, c.address, L().vip);
    } catch (e) {
      if (!/no outage in the port capture/.test(String(e))) throw e;
    }
    return { res, doc: JSON.parse(res.stdout), truth, clientPcap: join(dir, `${name}-m.pcap`), serverPcaps };
  } finally {
    await killPid(truthPid);
    for (const pid of serverPids) await killPid(pid);
  }
}

/** measure-failover --read of the client's capture joined with the servers' captures (and logs). */
async function joined(clientPcap: string, serverPcaps: string[], extra: string[] = []) {
  const res = await hadiag(undefined, ['measure-failover', '--vip', L().vip, '--read', clientPcap, '--json', '--hacf', hacf(), ...serverPcaps.flatMap((f) => ['--server-capture', f]), ...extra]);
  assert.ok(res.stdout.trim().startsWith('{'), `no JSON (exit ${res.code}): ${res.stderr}`);
  return JSON.parse(res.stdout);
}

/** A copy of a capture with every timestamp moved by `ms` (another host's clock). */
async function shifted(file: string, ms: number, outDir?: string): Promise<string> {
  const p = await readPcap(file);
  const out = outDir ? join(outDir, `${file.split('/').pop()!.replace(/\.pcap$/, '')}-shift.pcap`) : file.replace(/\.pcap$/, `-shift.pcap`);
  writeFileSync(out, Buffer.concat([pcapHeader(p.linktype), ...p.records.map((r) => pcapRecord(r.tsMs + ms, r.data))]));
  return out;
}

interface Outage {
  firstLostSeq: number;
  durationMs: number;
  diagnosis: { cause: string; sentence: string; underlying?: string };
}

/** The outage with `cause`, its truth run (same first lost probe), within TRUTH_MS; recorded for the report. */
function check(name: string, doc: { outages: Outage[]; summary: string }, truth: PortTruth[], cause: string): Outage {
  const o = doc.outages.find((x) => x.diagnosis.cause === cause);
  assert.ok(o, `${name}: no ${cause} outage: ${doc.summary}`);
  const t = truth.find((x) => x.firstLostSeq === (o.firstLostSeq & 0xffff));
  assert.ok(t, `${name}: the port capture has no run starting at seq ${o.firstLostSeq}`);
  const err = o.durationMs - t.durationMs;
  results.push(`${name}: ${cause}, outage ${o.durationMs.toFixed(2)} ms, truth ${t.durationMs.toFixed(2)} ms, error ${err.toFixed(3)} ms — ${o.diagnosis.sentence}`);
  assert.ok(Math.abs(err) <= TRUTH_MS, `${name}: measured ${o.durationMs} ms vs truth ${t.durationMs} ms`);
  return o;
}

/** One server holds the VIP again and has for a moment (after a link-up / move back). */
async function settled(): Promise<void> {
  assert.ok(await waitFor(async () => ((await vipView(L())).holders.length === 1 ? true : undefined), 20_000), 'one VIP holder');
  await sleep(1500);
  assert.ok(await waitFor(async () => ((await vipView(L())).holders.length === 1 ? true : undefined), 20_000), 'still one VIP holder');
}

/** run-node's own capture on a server (the lab starts it with --capture --capture-dir SERVER_DIR/captures): the newest. */
function runNodePcap(server: string): string {
  const d = join(labHost(L(), server).dir, 'captures');
  const files = readdirSync(d).filter((f) => /^run-node-.*\.pcap$/.test(f)).map((f) => join(d, f));
  assert.ok(files.length, `no run-node capture in ${d}`);
  return files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]!;
}

interface Server {
  name: string;
  offsetMs?: number;
  residualMs?: number;
  oneWay?: string;
  spreadMs?: number;
  via?: string;
}

test('cross-host with run-node --capture: a link-down takeover measured live with both servers\' run-node pcaps and the new holder\'s log → every segment; the offset from their ARP (one way); a shifted copy recovered within 1 ms', async () => {
  const holder = await waitForVipHolder(L(), 10_000);
  const h = labHost(L(), holder);
  const neu = servers(L()).find((x) => x.name !== holder)!.name;
  const caps = [runNodePcap(holder), runNodePcap(neu)];
  const log = join(labHost(L(), neu).dir, 'ha-log');
  let r: Awaited<ReturnType<typeof measured>>;
  try {
    r = await measured('xhost', ['--trigger', `ip -n ${h.netns} link set ${h.ifname} down`, '--timeout', '6s', ...caps.flatMap((f) => ['--server-capture', f]), '--server-log', log]);
  } finally {
    await fault('link-up', holder);
  }
  assert.equal(r.doc.outages.length, 1, r.doc.summary);
  const o = check('run-node --capture ×2 + link-down', r.doc, r.truth, r.doc.outages[0].diagnosis.cause);
  const x = (o as unknown as { crossHost: { newHolderCapture: string; oldHolderCapture?: string; points: { label: string; tsMs: number }[]; segments: { name: string; ms: number }[]; dominant: string; servers: Server[]; announcementsOnServerWire: number; onWireStampLateMs?: number } }).crossHost;
  assert.equal(x.newHolderCapture, caps[1]);
  assert.deepEqual(
    x.points.map((p) => p.label),
    ['old holder silent', 'address added', 'first announcement on the server’s wire', 'seen at the client', 'client’s neighbour entry changed', 'traffic flowing'],
    JSON.stringify(x.points),
  );
  assert.deepEqual(x.segments.map((s) => s.name), ['detection', 'announce', 'path', 'client', 'traffic']);
  assert.ok(x.announcementsOnServerWire >= 1);
  const seg = Object.fromEntries(x.segments.map((s) => [s.name, s.ms]));
  assert.ok(seg.detection! > 300 && seg.detection! < 3000, `detection ${seg.detection} ms ≈ the 1 s deadtime`);
  assert.ok(Math.abs(seg.path!) < 5, `path ${seg.path} ms: the wire, one way (± the stamping jitter)`);
  // run-node's pcap holds only the server's own ARP (stamped in user space): the offset from its announcements,
  // server → client only; one clock in the lab, so the estimate is its error (one-way delay, stamping latency)
  const s = x.servers.find((v) => v.name === caps[1])!;
  assert.equal(s.via, 'arp', JSON.stringify(s));
  assert.equal(s.oneWay, 'server→client');
  assert.equal(s.residualMs, undefined, 'no ± claimed from one direction');
  assert.ok(Math.abs(s.offsetMs!) < 1, `offset ${s.offsetMs} ms: one clock in the lab`);
  assert.ok(s.spreadMs! >= 0, JSON.stringify(s));
  results.push(
    `run-node --capture ×2 + --server-log, live: ${o.diagnosis.cause}; segments ${x.segments.map((v) => `${v.name} ${(v.ms / 1000).toFixed(4)} s`).join(', ')} (dominant ${x.dominant}); the new holder's pcap stamped its first announcement ${x.onWireStampLateMs?.toFixed(3) ?? '0'} ms after the client saw it; offsets ${x.servers.map((v) => `${v.name.split('/').pop()} ${v.offsetMs?.toFixed(4)} ms via ${v.via} ${v.oneWay ? `${v.oneWay} spread ${v.spreadMs?.toFixed(4)} ms` : `± ${v.residualMs?.toFixed(4)}`}`).join('; ')}`,
  );
  // the text hadiag prints for it (the client's capture read back with the same server files)
  const text = await hadiag(undefined, ['measure-failover', '--vip', L().vip, '--read', r.clientPcap, '--hacf', hacf(), ...caps.flatMap((f) => ['--server-capture', f]), '--server-log', log]);
  const block = text.stdout.split('\n').filter((l) => /across hosts|^ {4}\s*[+-]\d|segments:/.test(l));
  results.push(`text (--read back):\n${block.join('\n')}`);
  assert.match(text.stdout, /across hosts \(server clock − client clock: .*ARP server→client only: off by the one-way delay and the server's stamping latency; spread \d+\.\d{3} ms/);
  // another host's clock: the new holder's run-node capture 2.5 s ahead, recovered within 1 ms from its ARP alone
  const SHIFT = 2500.25;
  const moved = await shifted(caps[1]!, SHIFT, dir);
  const doc2 = await joined(r.clientPcap, [caps[0]!, moved]);
  const est = (doc2.outages[0].crossHost.servers as Server[]).find((v) => v.name === moved)!;
  results.push(`run-node capture shifted ${SHIFT} ms: estimated ${est.offsetMs!.toFixed(4)} ms (${est.via}, ${est.oneWay}; unshifted ${s.offsetMs!.toFixed(4)} ms)`);
  assert.ok(Math.abs(est.offsetMs! - SHIFT) < 1, `estimated ${est.offsetMs} ms for a ${SHIFT} ms shift`);
  await settled();
});

test('lossy-path: loss=20 on the client port across a link-down of the holder → one outage, lossy-path when the loss lengthened it; the rest one degraded finding', async () => {
  const holder = await waitForVipHolder(L(), 10_000);
  const h = labHost(L(), holder);
  try {
    const { doc, truth } = await measured('lossy', ['--timeout', '7s'], async (pcap) => {
      await probesFlowing(pcap);
      await fault('loss=20', client().name);
      try {
        await sleep(1200);
        await run(['ip', '-n', h.netns, 'link', 'set', h.ifname, 'down']);
        await sleep(3500);
      } finally {
        await fault('loss=0', client().name);
      }
    });
    // the loss lengthens the outage when it drops the first announcements (most runs: +1 … +2 s); when the
    // first one got through, the outage keeps its own cause with the loss in its evidence — either is asserted
    const lengthened = doc.outages[0]?.diagnosis.cause === 'lossy-path';
    const o = check('loss=20 + link-down', doc, truth, lengthened ? 'lossy-path' : 'detection-bound');
    assert.equal(doc.outages.length, 1, doc.summary);
    assert.ok(o.durationMs > 500 && o.durationMs < 5000, `${o.durationMs} ms ≈ the 1 s deadtime`);
    assert.ok(doc.degraded.length >= 1 && doc.degraded[0].lossRate > 0.15, JSON.stringify(doc.degraded));
    if (lengthened) {
      assert.match(o.diagnosis.sentence, /the takeover itself took \d+\.\d\d s; the loss added \d+\.\d\d s/);
      assert.ok(o.diagnosis.underlying, 'the cause without the loss is named');
    } else {
      assert.ok((o as unknown as { diagnosis: { evidence: string[] } }).diagnosis.evidence.some((e) => /degraded path around it .* which did not lengthen it/.test(e)), 'the loss in the evidence');
      assert.ok(o.durationMs < 1500, `${o.durationMs} ms: not lengthened`);
    }
  } finally {
    await fault('link-up', holder);
  }
  await settled();
});

test('stp-takeover=4: nothing from the new holder for 4 s → port-not-forwarding', async () => {
  const holder = await waitForVipHolder(L(), 10_000);
  const { doc, truth } = await measured('stp', ['--timeout', '11s'], async (pcap) => {
    await probesFlowing(pcap);
    await sleep(300);
    await fault('stp-takeover=4');
  });
  try {
    const o = check('stp-takeover=4', doc, truth, 'port-not-forwarding');
    assert.ok(o.durationMs > 3500, `${o.durationMs} ms: at least the 4 s block`);
    assert.match(o.diagnosis.sentence, /^Nothing from the new holder \S+ \(its heartbeat every 0\.[12]\d s\) reached this host for \d+\.\d\d s, .* although by its timers — deadtime 1\.00 s/);
  } finally {
    await fault('link-up', holder);
  }
  await settled();
});

test('switch-drop-arp across a link-down: no-announcement from the client alone; with the servers\' captures dropped-on-path, and a shifted server clock recovered within 1 ms', async () => {
  const holder = await waitForVipHolder(L(), 10_000);
  const h = labHost(L(), holder);
  await fault('switch-drop-arp');
  let run1: Awaited<ReturnType<typeof measured>>;
  try {
    run1 = await measured('droparp', ['--trigger', `ip -n ${h.netns} link set ${h.ifname} down`, '--timeout', '15s'], undefined, true);
    const o = check('switch-drop-arp + link-down', run1.doc, run1.truth, 'no-announcement');
    assert.equal(run1.doc.outages.length, 1, run1.doc.summary);
    assert.ok(o.durationMs > 1500, `${o.durationMs} ms: the client's own ARP timeout`);
  } finally {
    await fault('switch-drop-arp=off');
    await fault('link-up', holder);
  }
  const log = join(labHost(L(), servers(L()).find((x) => x.name !== holder)!.name).dir, 'ha-log');
  const doc = await joined(run1.clientPcap, run1.serverPcaps, ['--server-log', log]);
  const o = doc.outages[0];
  results.push(`switch-drop-arp + link-down, --server-capture ×2 --server-log: ${o.diagnosis.cause}; segments ${o.crossHost.segments.map((x: { name: string; ms: number }) => `${x.name} ${(x.ms / 1000).toFixed(3)} s`).join(', ')} (dominant ${o.crossHost.dominant}); offsets ${o.crossHost.servers.map((x: { offsetMs: number; residualMs: number }) => `${x.offsetMs?.toFixed(3)} ± ${x.residualMs?.toFixed(3)} ms`).join(', ')} — ${o.diagnosis.sentence}`);
  assert.equal(o.diagnosis.cause, 'dropped-on-path', o.diagnosis.sentence);
  assert.ok(o.crossHost.announcementsOnServerWire >= 1);
  const labels = o.crossHost.points.map((p: { label: string }) => p.label);
  for (const l of ['old holder silent', 'address added', 'first announcement on the server’s wire', 'traffic flowing']) assert.ok(labels.includes(l), `${l} in ${labels.join(' | ')}`);
  for (const x of o.crossHost.servers) assert.ok(Math.abs(x.offsetMs) < 1, `one clock in the lab: offset ${x.offsetMs} ms`);
  // another host's clock: the new holder's capture 2.5 s ahead, recovered within 1 ms
  const SHIFT = 2500.25;
  const newCap = o.crossHost.newHolderCapture as string;
  const moved = await shifted(newCap, SHIFT);
  const doc2 = await joined(run1.clientPcap, [...run1.serverPcaps.filter((f) => f !== newCap), moved]);
  const o2 = doc2.outages[0];
  const est = o2.crossHost.servers.find((x: { name: string }) => x.name === moved);
  const base = o.crossHost.servers.find((x: { name: string }) => x.name === newCap);
  results.push(`shifted ${SHIFT} ms: estimated ${est.offsetMs.toFixed(3)} ms ± ${est.residualMs.toFixed(3)} ms (unshifted ${base.offsetMs.toFixed(3)} ms)`);
  assert.ok(Math.abs(est.offsetMs - SHIFT) < 1, `estimated ${est.offsetMs} ms for a ${SHIFT} ms shift`);
  assert.ok(Math.abs(est.offsetMs - base.offsetMs - SHIFT) < 0.01, 'the shift, exactly');
  assert.equal(o2.diagnosis.cause, 'dropped-on-path');
  await settled();
});

test('no-announce: the VIP moves with no announcement → no-announcement; with the servers\' captures not-sent', async () => {
  const holder = await waitForVipHolder(L(), 10_000);
  try {
    const r = await measured(
      'noann',
      ['--timeout', '10s'],
      async (pcap) => {
        await probesFlowing(pcap);
        await sleep(300);
        await fault('no-announce');
      },
      true,
    );
    const o = check('no-announce', r.doc, r.truth, 'no-announcement');
    assert.equal(r.doc.outages.length, 1, r.doc.summary);
    assert.ok(o.durationMs > 1500, `${o.durationMs} ms: the client's own ARP timeout`);
    const doc = await joined(r.clientPcap, r.serverPcaps);
    const j = doc.outages[0];
    results.push(`no-announce, --server-capture ×2: ${j.diagnosis.cause}; segments ${j.crossHost.segments.map((x: { name: string; ms: number }) => `${x.name} ${(x.ms / 1000).toFixed(3)} s`).join(', ')} — ${j.diagnosis.sentence}`);
    assert.equal(j.diagnosis.cause, 'not-sent', j.diagnosis.sentence);
    assert.equal(j.crossHost.announcementsOnServerWire, 0);
  } finally {
    const now = (await vipView(L())).holders;
    if (now.length === 1 && now[0] !== holder) await fault('no-announce', holder);
  }
});
