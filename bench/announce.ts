/**
 * `hadiag announce` latency: the VIP is added to a namespace's interface (as a manager would, `ip addr add`) and
 * removed again, `--takeovers N` times (default 60). For each takeover:
 *   - netlink: when a raw rtnetlink socket (RTMGRP_IPV4_IFADDR, a small Python listener in the same namespace —
 *     the anchor: what a native netlink watcher would see) received the RTM_NEWADDR;
 *   - ip monitor: when the sidecar read the event from its `ip -o -ts monitor address` child;
 *   - wire: when the sidecar's first frame reached the client (tcpdump on the client, kernel timestamps) and
 *     when the sidecar's own capture saw it leave (`garp-seen`).
 * Printed: median, p99 and max of address-added → first frame on the wire and of the ip-monitor path's extra
 * delay over netlink; the `ip monitor` child's CPU time and RSS over the run. The sidecar runs from dist/
 * (`npm run build` first unless --no-build). Writes bench/results/announce-latest.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Topology, labMac } from '../src/effects/io/netns.js';
import { run, runOk } from '../src/effects/io/exec.js';
import { sleep } from '../src/core/clock.js';
import { PROJECT_ROOT } from '../src/core/module-argv.js';
import { cpuMs, memory } from './proc.js';
import { flag, fmtMs, fmtRatio, log, progress, ratio, summarize, writeResult, quantile } from './lib.js';

const VIP = '198.18.0.20';
const CLIENT = '198.18.0.5';

/** Prints "<epoch seconds> <address>" for every IPv4 address added on any interface of its namespace. */
const NETLINK_LISTENER = `
import socket, struct, time, sys
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
s.bind((0, 0x10))  # RTMGRP_IPV4_IFADDR
print("ready", flush=True)
while True:
    data = s.recv(65536)
    t = time.time()
    off = 0
    while off + 16 <= len(data):
        length, mtype = struct.unpack_from("=IH", data, off)
        if length < 16: break
        if mtype == 20:  # RTM_NEWADDR
            a = off + 16 + 8
            while a + 4 <= off + length:
                rlen, rtype = struct.unpack_from("=HH", data, a)
                if rlen < 4: break
                if rtype == 2 and rlen >= 8:  # IFA_LOCAL
                    print("%.6f %s" % (t, socket.inet_ntoa(data[a + 4:a + 8])), flush=True)
                a += (rlen + 3) & ~3
        off += (length + 3) & ~3
`;

function lines(child: ChildProcess, onLine: (l: string) => void): void {
  createInterface({ input: child.stdout! }).on('line', onLine);
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

interface Takeover {
  netlinkMs?: number;
  ipStampMs: number;
  readMs: number;
  firstSentMs?: number;
  firstSeenMs?: number;
  wireAtClientMs?: number;
}

export async function announceBench(): Promise<void> {
  const takeovers = Number(flag('takeovers', '60'));
  if (!process.argv.includes('--no-build')) await runOk(['npm', 'run', '--silent', 'build'], { cwd: PROJECT_ROOT });
  const topo = await Topology.create({
    hosts: [
      { name: 'server', addresses: ['198.18.0.11/24'], mac: labMac(11) },
      { name: 'client', addresses: [`${CLIENT}/24`], mac: labMac(5) },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), `hadiag-bench-announce-${topo.runId}-`));
  const children: ChildProcess[] = [];
  try {
    const [s, c] = [topo.host('server'), topo.host('client')];
    await runOk(['ip', '-n', s.netns, 'neigh', 'replace', CLIENT, 'lladdr', c.mac, 'dev', s.ifname, 'nud', 'permanent']);
    const nl: { tMs: number; ip: string }[] = [];
    const hasPython = (await run(['python3', '-c', 'pass'])).code === 0;
    if (hasPython) {
      writeFileSync(join(dir, 'netlink.py'), NETLINK_LISTENER);
      const py = spawn('ip', ['netns', 'exec', s.netns, 'python3', join(dir, 'netlink.py')], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(py);
      let ready = false;
      lines(py, (l) => {
        if (l === 'ready') ready = true;
        const [t, ip] = l.split(' ');
        if (ip) nl.push({ tMs: Number(t) * 1000, ip });
      });
      await until('the netlink listener', () => (ready ? true : undefined), 10_000);
    } else progress('python3 not found: no netlink anchor, the ip-monitor cost is not measured');

    const wire: number[] = [];
    const dump = spawn('ip', ['netns', 'exec', c.netns, 'tcpdump', '-i', c.ifname, '-n', '-l', '-tt', '-U', `arp and ether src ${s.mac}`], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(dump);
    lines(dump, (l) => wire.push(Number(l.split(' ')[0]) * 1000));

    const logs: Record<string, any>[] = [];
    // as deployed: a peer sidecar (here one that never answers) and an authkeys file
    writeFileSync(join(dir, 'authkeys'), 'auth 1\n1 sha1 bench\n', { mode: 0o600 });
    const peer = process.argv.includes('--no-peer') ? [] : ['--peer', '198.18.0.12', '--authkeys', join(dir, 'authkeys')];
    const sidecar = spawn('ip', ['netns', 'exec', s.netns, process.execPath, join(PROJECT_ROOT, 'bin/hadiag.js'), 'announce', s.ifname, '--vip', VIP, ...peer, '--state-dir', join(dir, 'state'), '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(sidecar);
    lines(sidecar, (l) => {
      try {
        logs.push(JSON.parse(l));
      } catch {
        /* not a log line */
      }
    });
    const started = await until('the sidecar to start', () => logs.find((e) => e.event === 'start'), 30_000);
    const monitorPid = Number(started.monitorPid);
    await sleep(500);
    const cpu0 = cpuMs(monitorPid) ?? NaN;
    const results: Takeover[] = [];
    for (let i = 0; i < takeovers; i++) {
      const [nAdded, nSeen, nRemoved, nWire] = [logs.filter((e) => e.event === 'address-added').length, logs.filter((e) => e.event === 'garp-seen').length, logs.filter((e) => e.event === 'address-removed').length, wire.length];
      const nNl = nl.length;
      await runOk(['ip', '-n', s.netns, 'addr', 'add', `${VIP}/24`, 'dev', s.ifname]);
      const added = await until('address-added', () => logs.filter((e) => e.event === 'address-added')[nAdded], 5_000);
      const seen = await until('garp-seen', () => logs.filter((e) => e.event === 'garp-seen')[nSeen], 5_000);
      await until('the frame at the client', () => (wire.length > nWire ? true : undefined), 5_000);
      await runOk(['ip', '-n', s.netns, 'addr', 'del', `${VIP}/24`, 'dev', s.ifname]);
      await until('address-removed', () => logs.filter((e) => e.event === 'address-removed')[nRemoved], 5_000);
      const ipStampMs = Number(added.addedMs);
      const t: Takeover = { ipStampMs, readMs: ipStampMs + Number(added.eventDelayMs), firstSeenMs: seen.firstSeenMs, firstSentMs: seen.firstSentMs, wireAtClientMs: wire[nWire]! - ipStampMs };
      const n = nl.slice(nNl).find((e) => e.ip === VIP);
      if (n) t.netlinkMs = n.tMs;
      results.push(t);
      await sleep(150);
    }
    const monitorCpuMs = (cpuMs(monitorPid) ?? NaN) - cpu0;
    const monitorRssKb = memory(monitorPid)?.rssKb ?? NaN;
    const sidecarRssKb = memory(sidecar.pid!)?.rssKb ?? NaN;
    const p99 = (v: number[]) => quantile(v, 0.99);
    const seenLat = results.map((r) => r.firstSeenMs!).filter(Number.isFinite);
    const clientLat = results.map((r) => r.wireAtClientMs!).filter(Number.isFinite);
    const withNl = results.filter((r) => r.netlinkMs !== undefined);
    const fromNetlink = withNl.map((r) => r.ipStampMs + r.firstSeenMs! - r.netlinkMs!);
    const monitorExtra = withNl.map((r) => r.readMs - r.netlinkMs!);
    const s1 = summarize(seenLat);
    const s2 = summarize(clientLat);
    log(`announce: ${results.length} takeovers (VIP added with ip addr → first frame)`);
    log(`  address event → first frame seen leaving (sidecar's capture): median ${fmtMs(s1.median)}, p99 ${fmtMs(p99(seenLat))}, max ${fmtMs(s1.max)}   (target median ≤ 5 ms)`);
    log(`  the sidecar's first takeover (cold start matters: it is often the one that counts): ${fmtMs(seenLat[0] ?? NaN)} to the first frame seen leaving`);
    log(`  address event → first frame at the client (tcpdump):           median ${fmtMs(s2.median)}, p99 ${fmtMs(p99(clientLat))}, max ${fmtMs(s2.max)}`);
    if (withNl.length) {
      const sn = summarize(fromNetlink);
      const sm = summarize(monitorExtra);
      log(`  netlink RTM_NEWADDR → first frame seen:                        median ${fmtMs(sn.median)}, p99 ${fmtMs(p99(fromNetlink))}`);
      log(`  what ip monitor costs over netlink (event read by the sidecar − netlink): median ${fmtMs(sm.median)}, p99 ${fmtMs(p99(monitorExtra))} — ${fmtRatio(ratio(sm.median, sn.median))} of the netlink→frame median`);
    }
    log(`  the sidecar process: RSS ${(sidecarRssKb / 1024).toFixed(1)} MB (node, from dist/)`);
    log(`  ip monitor child: ${fmtMs(monitorCpuMs)} CPU over ${results.length} takeovers (${(monitorCpuMs / Math.max(1, results.length)).toFixed(2)} ms each), RSS ${(monitorRssKb / 1024).toFixed(1)} MB`);
    const file = writeResult('announce', {
      takeovers: results.length,
      firstSeenMs: { ...s1, p99: p99(seenLat), firstTakeover: seenLat[0] },
      atClientMs: { ...s2, p99: p99(clientLat) },
      ...(withNl.length ? { netlinkToFirstSeenMs: { ...summarize(fromNetlink), p99: p99(fromNetlink) }, ipMonitorExtraMs: { ...summarize(monitorExtra), p99: p99(monitorExtra) } } : {}),
      ipMonitor: { cpuMs: monitorCpuMs, rssKb: monitorRssKb },
      sidecarRssKb,
      samples: results,
    });
    log(`  → ${file}`);
  } finally {
    for (const ch of children) if (ch.exitCode === null) ch.kill('SIGTERM');
    await sleep(300);
    await topo.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await announceBench();
