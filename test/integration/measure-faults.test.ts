/**
 * measure-failover against a hadiag cluster (`hadiag run-node`, default announcement strategy `directed`) in the
 * lab, under the lab's faults: link-down of the VIP holder, random loss on the client's bridge port, a
 * partition of the servers (split brain) and STP on the bridge while the holder's link blips. Each measured outage is compared with an independent truth this test takes itself: a
 * tcpdump on the client's bridge port (first echo request without a reply → first reply after ≥ 3 unanswered
 * sequence numbers), agreeing within one probe interval + MARGIN_MS. Fast cluster timers (200 ms / 1 s) and
 * shrunk client neighbour timers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { upLab, destroyLab } from '../../src/effects/lab/lab.js';
import { applyFault, parseFault } from '../../src/effects/lab/faults.js';
import { vipView, waitForVipHolder } from '../../src/effects/lab/vip.js';
import { clients, labHost, type LabState } from '../../src/effects/lab/types.js';
import { killPid } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { run } from '../../src/effects/io/exec.js';
import { hadiag, outagesFromPortCapture, startPortCapture, type PortTruth } from './measure-helpers.js';
import { waitFor } from './lab-helpers.js';

const INTERVAL_MS = 5;
/** ping's print latency and scheduling (the capture's kernel stamps are µs-exact) */
const MARGIN_MS = 10;
const SHRUNK = { base_reachable_time_ms: 2000, delay_first_probe_time: 1 };

let lab: LabState | undefined;
let dir: string;

before(async () => {
  lab = await upLab({ manager: 'hadiag', timers: 'fast', profiles: ['linux-default'], neigh: SHRUNK });
  dir = mkdtempSync(join(tmpdir(), 'hadiag-measure-faults-'));
});
after(async () => {
  if (lab) await destroyLab(lab.id);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const L = () => lab!;
const client = () => clients(L())[0]!;
const fault = (spec: string, host?: string) => applyFault(L(), parseFault(spec), host);

/** Run measure-failover on the client while the bridge-port truth capture runs; `during` runs meanwhile. */
/** Resolves once the client's probes are crossing its bridge port (the truth capture grows), so a fault lands inside the run even when start-up is slow. */
async function probesFlowing(portPcap: string, timeoutMs = 30_000): Promise<void> {
  const size = () => (existsSync(portPcap) ? statSync(portPcap).size : 0);
  const start = size();
  const ok = await waitFor(async () => (size() > start + 4096 ? true : undefined), timeoutMs);
  assert.ok(ok, `no probes crossed the client's port within ${timeoutMs} ms`);
}

async function measured(name: string, args: string[], during?: (portPcap: string) => Promise<void>) {
  const c = client();
  assert.equal((await run(['ip', 'netns', 'exec', c.netns, 'ping', '-c', '1', '-W', '2', L().vip])).code, 0, 'VIP reachable before');
  const portPcap = join(dir, `${name}.pcap`);
  const truthPid = (await startPortCapture(L().bridgeNetns, c.bridgePort, portPcap)).pid;
  try {
    const measuring = hadiag(c.netns, ['measure-failover', '--vip', L().vip, '--interval', `${INTERVAL_MS}ms`, '--json', '--write', join(dir, `${name}-m.pcap`), ...args]);
    if (during) await during(portPcap);
    const res = await measuring;
    assert.ok(res.stdout.trim().startsWith('{'), `no JSON (exit ${res.code}): ${res.stderr}`);
    return { res, doc: JSON.parse(res.stdout), portPcap };
  } finally {
    await killPid(truthPid);
  }
}

/** Port-capture outages, or none (outagesFromPortCapture throws when there is none). */
async function truthOutages(file: string): Promise<PortTruth[]> {
  try {
    return await outagesFromPortCapture(file, client().address, L().vip);
  } catch (e) {
    if (/no outage in the port capture/.test(String(e))) return [];
    throw e;
  }
}

test('link-down of the VIP holder: the measured outage agrees with the bridge-port truth; detection-bound (directed requests)', async () => {
  const holder = await waitForVipHolder(L(), 10_000);
  const h = labHost(L(), holder);
  try {
    const { res, doc, portPcap } = await measured('linkdown', ['--trigger', `ip -n ${h.netns} link set ${h.ifname} down`, '--timeout', '20s']);
    const [truth] = await truthOutages(portPcap);
    assert.ok(truth, 'the port capture saw the outage');
    assert.equal(doc.outages.length, 1, doc.summary);
    const o = doc.outages[0];
    const err = o.durationMs - truth.durationMs;
    process.stderr.write(`# link-down ${holder}: hadiag ${o.durationMs.toFixed(2)} ms, truth ${truth.durationMs.toFixed(2)} ms, error ${err.toFixed(3)} ms; ${o.diagnosis.sentence}\n`);
    assert.ok(Math.abs(err) <= INTERVAL_MS + MARGIN_MS, `measured ${o.durationMs} ms vs truth ${truth.durationMs} ms`);
    assert.equal(o.firstLostSeq & 0xffff, truth.firstLostSeq, 'same first lost probe');
    assert.ok(o.durationMs > 500 && o.durationMs < 5000, `outage ${o.durationMs} ms ≈ the 1 s deadtime`);
    assert.equal(o.macBefore, h.mac);
    assert.notEqual(o.macAfter, h.mac);
    assert.equal(o.diagnosis.cause, 'detection-bound', o.diagnosis.sentence);
    assert.equal(o.learnedBy, 'announcement');
    assert.ok(o.announcements.some((a: { form: string }) => a.form === 'directed-request'), 'hadiag run-node announces with directed requests');
    assert.equal(res.code, 0, res.stderr);
  } finally {
    await fault('link-up', holder);
  }
  // one holder again before the next case
  assert.ok(await waitFor(async () => ((await vipView(L())).holders.length === 1 ? true : undefined), 15_000), 'one VIP holder after link-up');
  await sleep(1500);
});

test('loss=30 on the client\'s port: no outage, one degraded finding whose window holds every lost probe the truth has', async () => {
  const c = client();
  const { doc, portPcap } = await measured('loss', ['--timeout', '5s'], async (pcap) => {
    await probesFlowing(pcap);
    await sleep(300);
    try {
      await fault('loss=30', c.name);
      await sleep(3000);
    } finally {
      await fault('loss=0', c.name);
    }
  });
  const truth = await truthOutages(portPcap);
  const lost = doc.probesSent - doc.probesAnswered;
  const d = doc.degraded?.[0];
  process.stderr.write(`# loss=30: ${doc.probesSent} probes, ${lost} lost; hadiag ${doc.outages.length} outage(s), ${doc.degraded?.length} degraded (${d ? `${(d.lossRate * 100).toFixed(1)} % over ${((d.toTsMs - d.fromTsMs) / 1000).toFixed(2)} s, ${d.lossRuns} runs` : '-'}); truth runs of ≥ 3: ${truth.length}\n`);
  // ~51 % of the round trips lose a frame each way at 30 %: hundreds of lost probes in 3 s at 5 ms
  assert.ok(lost >= 50, `${lost} probes lost of ${doc.probesSent}`);
  assert.ok(doc.probesAnswered >= 100, `${doc.probesAnswered} answered`);
  assert.equal(doc.outages.length, 0, `scattered loss reported as outages: ${doc.summary}`);
  assert.equal(doc.degraded.length, 1, doc.summary);
  assert.ok(d.lossRate > 0.3 && d.lossRate < 0.75, `loss rate ${d.lossRate}`);
  assert.ok(d.toTsMs - d.fromTsMs > 2000 && d.toTsMs - d.fromTsMs < 4500, `window ${d.toTsMs - d.fromTsMs} ms ≈ the 3 s of loss`);
  // every run of ≥ 3 unanswered probes the port saw lies inside the one finding
  for (const t of truth) assert.ok(t.startTsMs >= d.fromTsMs - INTERVAL_MS - MARGIN_MS && t.endTsMs <= d.toTsMs + MARGIN_MS, `truth run at seq ${t.firstLostSeq} outside the degraded window`);
  assert.match(doc.summary, /Degraded path: \d+\.\d % of probes lost/);
});

test('partition: both servers take the VIP; measure-failover --check-duplicates reports the split brain', async () => {
  await fault('partition');
  try {
    assert.ok(await waitFor(async () => ((await vipView(L())).holders.length === 2 ? true : undefined), 10_000), 'split brain within 10 s');
    const c = client();
    const res = await hadiag(c.netns, ['measure-failover', '--vip', L().vip, '--timeout', '2s', '--check-duplicates', '--json']);
    assert.ok(res.stdout.trim().startsWith('{'), `no JSON (exit ${res.code}): ${res.stderr}`);
    const doc = JSON.parse(res.stdout);
    process.stderr.write(`# partition: ${doc.summary}\n`);
    assert.ok(doc.conflicts.length >= 1, doc.summary);
    const macs = new Set<string>(doc.conflicts.flatMap((x: { macs: string[] }) => x.macs));
    for (const s of ['server1', 'server2']) assert.ok(macs.has(labHost(L(), s).mac), `${s}'s MAC among the owners: ${[...macs].join(' ')}`);
    assert.match(doc.summary, /Split brain/);
    assert.equal(res.code, 1);
  } finally {
    await fault('heal');
  }
});

test('stp-delay=2, the holder\'s link blips: its port blocks 4 s, the peer takes over; every outage agrees with the truth', async () => {
  assert.ok(await waitFor(async () => ((await vipView(L())).holders.length === 1 ? true : undefined), 15_000), 'one VIP holder after heal');
  await fault('stp-delay=2');
  try {
    // turning STP on sends every port through listening + learning once: wait until all forward again
    const allForwarding = async () => {
      const r = await run(['bridge', '-n', L().bridgeNetns, 'link', 'show']);
      return r.stdout.trim() !== '' && !/state (listening|learning|blocking|disabled)/.test(r.stdout) ? true : undefined;
    };
    assert.ok(await waitFor(allForwarding, 12_000, 200), 'bridge ports forwarding after STP on');
    const holder = await waitForVipHolder(L(), 10_000);
    const h = labHost(L(), holder);
    const { doc, portPcap } = await measured('stp', ['--trigger', `ip -n ${h.netns} link set ${h.ifname} down && ip -n ${h.netns} link set ${h.ifname} up`, '--timeout', '10s']);
    const truth = await truthOutages(portPcap);
    process.stderr.write(`# stp-delay=2 blip of ${holder}: hadiag ${doc.outages.map((o: { durationMs?: number; diagnosis: { cause: string } }) => `${o.durationMs?.toFixed(2)} ms (${o.diagnosis.cause})`).join(', ')}; truth ${truth.map((t) => t.durationMs.toFixed(2)).join(', ')} ms; ${doc.summary}\n`);
    assert.ok(truth.length >= 1, 'the port capture saw the outage');
    assert.equal(doc.outages.length, truth.length, doc.summary);
    doc.outages.forEach((o: { durationMs: number; firstLostSeq: number }, i: number) => {
      const t = truth[i]!;
      assert.ok(Math.abs(o.durationMs - t.durationMs) <= INTERVAL_MS + MARGIN_MS, `#${i + 1}: measured ${o.durationMs} ms vs truth ${t.durationMs} ms`);
      assert.equal(o.firstLostSeq & 0xffff, t.firstLostSeq);
    });
    // the blip alone lasts milliseconds; the ~1 s outage is the blocked port hiding the holder's heartbeats
    // from its peer (deadtime 1 s), which took the VIP over and announced it
    const o = doc.outages[0];
    assert.ok(o.durationMs > 500 && o.durationMs < 4000, `outage ${o.durationMs} ms: the peer's detection time, not the 4 s block`);
    assert.equal(o.macBefore, h.mac);
    assert.notEqual(o.macAfter, h.mac, 'the peer answered after the outage');
    assert.equal(o.diagnosis.cause, 'detection-bound', o.diagnosis.sentence);
  } finally {
    await fault('stp-delay=0');
  }
});
