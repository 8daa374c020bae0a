import { isIPv4, isIPv6 } from 'node:net';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { EXIT_HEALTHY, EXIT_PROBLEM, requireRoot, usageError } from '../core/errors.js';
import { interactive, printJson, printJsonLine } from './output.js';
import { parseDuration } from '../core/duration.js';
import { PcapWriter } from '../effects/io/pcap-file.js';
import { openCaptureFile } from '../effects/io/capture-file.js';
import { JsonArrayDocument } from './render/json-stream.js';
import { decodeFrame } from '../codecs/decode.js';
import { normMac } from '../codecs/addr.js';
import { buildGarp } from '../codecs/arp.js';
import { GarpAnalyzer, type FrameReport, type GarpSummary } from '../models/resolution/garp-watch.js';
import { HostModel, stockClientVerdicts } from '../models/resolution/host-model.js';
import { buildAudit, buildAudit6, type HostAudit } from '../models/resolution/audit.js';
import { formatAudit, formatAudit6, formatFrameLine, formatSummary, type Verification } from './render/garp.js';
import { announcementLanguage, parseStrategy, planAnnouncements, type Strategy } from '../models/strategy/language.js';
import type { NdSysctls, NeighEntry } from '../models/resolution/host-state.js';
import { SendTracker, type SendSummaryRow } from '../effects/announce/sender.js';
import type { Prediction } from '../models/resolution/accept-model.js';
import { nowMs } from '../core/clock.js';
import { msSinceUpdateEstimate } from '../models/resolution/host-state.js';

interface Args {
  iface?: string;
  read?: string;
  write?: string;
  vip?: string;
  send?: string | string[];
  mac?: string;
  duration?: string;
  json: boolean;
}

interface Verdict {
  healthy: boolean;
  problems: string[];
}

/** Exit 1 for: announcements a host ignored, split brain / conflicts, malformed announcements, frames that did not leave. */
function judge(s: GarpSummary, extra: { ignored?: string[]; send?: SendSummaryRow[] }): Verdict {
  const problems: string[] = [];
  for (const c of s.clients) if (c.verdict === 'ignored') problems.push(c.conclusion);
  for (const i of extra.ignored ?? []) problems.push(i);
  for (const w of s.warnings) if (w.code === 'split-brain' || w.code === 'mac-flapping' || w.code === 'malformed') problems.push(w.message);
  for (const r of extra.send ?? []) {
    if (r.failed) problems.push(`${r.spec}: ${r.failed} frame(s) could not be sent`);
    else if (r.seen < r.sent) problems.push(`${r.spec}: sent ${r.sent} ${r.form} but only ${r.seen} were seen leaving the interface`);
  }
  return { healthy: problems.length === 0, problems };
}

/**
 * --read: the records are analysed one at a time and each frame's line (or JSON element) is written as soon
 * as it is decided; what stays in memory is the analyzer's per-address and per-client state.
 */
async function checkFile(argv: Args): Promise<void> {
  const file = await openCaptureFile(argv.read!, 'arp');
  const analyzer = new GarpAnalyzer({ vip: argv.vip });
  const out = (text: string) => process.stdout.write(text);
  const doc = argv.json ? new JsonArrayDocument(out, { file: argv.read, format: file.format, linktype: file.linktype }, 'frames') : undefined;
  for await (const rec of file.records) {
    const f = decodeFrame(rec.data, rec.linktype);
    const stock = stockClientVerdicts(f);
    const r = analyzer.add(rec.tsMs, f, stock?.withEntry, 'a stock client');
    if (!r) continue;
    if (doc) doc.item(r);
    else out(formatFrameLine(r) + '\n');
  }
  const summary = analyzer.summary();
  const { stats } = file;
  const notes: string[] = [...file.limits];
  if (stats.truncated) notes.push(`${argv.read} ends in the middle of a record (capture cut short); the frames before it were analysed`);
  if (stats.untimed) notes.push(`${stats.untimed} pcapng record(s) carry no timestamp (simple packet blocks): left out`);
  notes.push('offline: "a stock client" = a default Linux host (arp_accept 0; IPv6: forwarding 0, drop_unsolicited_na 0, accept_untracked_na 0) whose entry points at another MAC');
  const verdict = judge(summary, {});
  if (doc) doc.end({ truncated: stats.truncated, summary, ...verdict, ...(notes.length > 1 ? { notes } : {}) });
  else out(formatSummary(summary, { notes }) + (verdict.healthy ? 'healthy\n' : `problems: ${verdict.problems.length}\n`));
  process.exitCode = verdict.healthy ? EXIT_HEALTHY : EXIT_PROBLEM;
}

/**
 * Run the per-frame path once on a frame built in memory: V8 compiles functions on first call, and a cold
 * first frame would delay the callback (and so the timestamps) of the frames queued behind it by tens of ms.
 */
function warmUp(mac: string): void {
  const a = new GarpAnalyzer({ vip: '192.0.2.1' });
  const m = new HostModel({ iface: 'x', mac, ipv4: [{ ip: '192.0.2.2', prefixLen: 24 }], arpAccept: 0, arpIgnore: 0, dropGratuitousArp: false, locktimeMs: 1000, ruleset: { chains: [], rules: [] } });
  const t = new SendTracker();
  for (const form of ['request', 'reply'] as const) {
    const frame = buildGarp(form, { vip: '192.0.2.1', mac: '02:00:00:00:00:01' });
    const f = decodeFrame(frame, 1);
    const p = m.predict(f, 0);
    if (p) m.apply('192.0.2.1', p, 0);
    const r = a.add(0, f, p);
    t.seen(frame, 0);
    if (r) formatFrameLine(r);
    JSON.stringify(r);
  }
  a.summary();
}

function defaultCapturePath(iface: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return join('captures', `garp-check-${iface}-${stamp}.pcap`);
}

const sameState = (a: string, b: string) => a === b || (['STALE', 'DELAY', 'PROBE'].includes(a) && ['STALE', 'DELAY', 'PROBE'].includes(b));

/**
 * The kernel announces no IPv6 entry entering INCOMPLETE or FAILED when it is set by hand, nor an entry it creates
 * INCOMPLETE to resolve (measured on 6.18: `ip monitor neigh` stays silent), yet both decide what an NA does
 * (a FAILED entry is never repaired by one). Poll `ip -6 neigh` twice a second for those two states.
 */
function withNeigh6Poll(w: { stop(): void }, read: () => Promise<NeighEntry[]> | undefined, model: HostModel, pending: (ip: string) => boolean): { stop(): void } {
  const silent = (st: string) => st === 'INCOMPLETE' || st === 'FAILED';
  const tracked = new Set<string>();
  let busy = false;
  const timer = setInterval(() => {
    const p = busy ? undefined : read();
    if (!p) return;
    busy = true;
    p.then((table) => {
      const now = nowMs();
      const seen = new Set<string>();
      for (const e of table) {
        seen.add(e.ip);
        if (!silent(e.state) || pending(e.ip) || model.entry(e.ip).state === e.state) continue;
        model.observe(e.ip, e, now, 0);
        tracked.add(e.ip);
      }
      for (const ip of tracked) {
        if (seen.has(ip) || pending(ip)) continue;
        if (silent(model.entry(ip).state)) model.observe(ip, { state: 'NONE' }, now, 0);
        tracked.delete(ip);
      }
    })
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, 500);
  return {
    stop() {
      clearInterval(timer);
      w.stop();
    },
  };
}

async function checkLive(argv: Args, strategies: Strategy[]): Promise<void> {
  const iface = argv.iface!;
  requireRoot('garp-check on an interface');
  const durationMs = argv.duration !== undefined ? parseDuration(argv.duration, 'duration') : undefined;
  const { openCapture, validateCapture } = await import('../effects/io/capture.js');
  const neigh = await import('../effects/io/host-neigh.js');
  const v6 = argv.vip !== undefined && isIPv6(argv.vip);
  const nd = '(icmp6 and (ip6[40] == 135 or ip6[40] == 136))';
  const filter = argv.vip ? (v6 ? `${nd} or host ${argv.vip}` : `arp or host ${argv.vip}`) : `arp or ${nd}`;
  validateCapture(iface, filter);

  // 1. host audit: ARP for an IPv4 VIP, neighbour discovery for an IPv6 one, both without --vip
  const [sysctls, info, firewall] = await Promise.all([neigh.readNeighSysctls(iface), neigh.readIfaceInfo(iface), neigh.readArpFirewall()]);
  const ndSysctls: NdSysctls | undefined = v6 ? await neigh.readNdSysctls(iface) : argv.vip ? undefined : await neigh.readNdSysctls(iface).catch(() => undefined);
  const addrs6 = ndSysctls ? await neigh.readIpv6Addrs(iface) : [];
  const table: NeighEntry[] = [...(v6 ? [] : await neigh.readNeighTable(iface)), ...(ndSysctls ? await neigh.readNeighTable6(iface) : [])];
  const vipEntry = argv.vip ? (table.find((e) => e.ip === argv.vip) ?? { ip: argv.vip, state: 'NONE' as const }) : undefined;
  if (!v6) {
    const audit: HostAudit = buildAudit({ sysctls, iface: info, firewall, vip: argv.vip, entry: vipEntry });
    if (argv.json) printJsonLine({ type: 'audit', ...audit });
    else process.stdout.write(formatAudit(audit) + '\n');
  }
  if (ndSysctls) {
    const audit6 = buildAudit6({ sysctls: ndSysctls, iface: info, addrs: addrs6, vip: v6 ? argv.vip : undefined, entry: v6 ? vipEntry : undefined });
    if (argv.json) printJsonLine({ type: 'audit6', ...audit6 });
    else process.stdout.write(formatAudit6(audit6) + '\n');
  }

  const model = new HostModel({
    iface,
    mac: info.mac,
    ipv4: info.ipv4,
    arpAccept: sysctls.arpAccept,
    arpIgnore: sysctls.arpIgnore,
    dropGratuitousArp: sysctls.dropGratuitousArp,
    locktimeMs: sysctls.locktimeMs,
    ruleset: firewall.ruleset,
    ipv6: addrs6.map((a) => ({ ip: a.ip, prefixLen: a.prefixLen, tentative: a.tentative })),
    nd: ndSysctls ? { forwarding: ndSysctls.forwarding, dropUnsolicitedNa: ndSysctls.dropUnsolicitedNa, acceptUntrackedNa: ndSysctls.acceptUntrackedNa } : undefined,
  });
  const readAt = nowMs();
  for (const e of table) model.observe(e.ip, e, readAt, msSinceUpdateEstimate(e, sysctls.locktimeMs));

  // 2. send plan (an IPv6 VIP: its clients are the IPv6 neighbours; NAs carry the router flag when this host forwards)
  const tracker = new SendTracker();
  const srcMac = argv.mac ? normMac(argv.mac)! : info.mac;
  const clients = table.filter((e) => e.mac && e.ip !== argv.vip && e.state !== 'FAILED' && e.state !== 'INCOMPLETE' && !e.ip.startsWith('fe80:')).map((e) => ({ ip: e.ip, mac: e.mac }));
  for (const s of strategies) tracker.add(s.spec, planAnnouncements(s, { vip: argv.vip!, mac: srcMac, clients, router: ndSysctls?.forwarding }));

  // 3. watch
  const analyzer = new GarpAnalyzer({ vip: argv.vip, locktimeMs: sysctls.locktimeMs });
  const writer = argv.write !== undefined ? PcapWriter.create(argv.write || defaultCapturePath(iface)) : undefined;
  const ignored: string[] = [];
  const verification: Verification = { checked: 0, matched: 0, mismatches: [] };
  // what the prediction(s) left the entry as, compared with the kernel 150 ms after the last frame for that IP
  const pendingChecks = new Map<string, { timer: NodeJS.Timeout; prediction: Prediction; tsMs: number; label: string; expected: { state: string; mac?: string } }>();
  const checks = new Set<Promise<void>>();
  let inFlight = 0;
  let finished = false;

  const verify = (ip: string) => {
    const p = pendingChecks.get(ip);
    if (!p) return;
    pendingChecks.delete(ip);
    // on a busy LAN (no --vip) keep the `ip neigh` reads bounded: skip a check while 4 are in flight
    if (inFlight >= 4) return;
    inFlight++;
    const expected = p.expected;
    const settle = (
      neigh
        .readNeighEntry(iface, ip)
        .finally(() => inFlight--)
        .then((actual) => {
          verification.checked++;
          // (a FAILED entry nobody uses is garbage-collected at the kernel's next periodic pass: gone is as predicted)
          const ok = actual.state === 'NONE' ? expected.state === 'NONE' || expected.state === 'FAILED' : actual.mac === expected.mac && sameState(actual.state, expected.state);
          if (ok) verification.matched++;
          else {
            const msg = `${ip} after ${p.label}: predicted ${expected.state} ${expected.mac ?? ''}, the kernel has ${actual.state} ${actual.mac ?? ''}`.replace(/ +/g, ' ');
            verification.mismatches.push(msg);
            if (argv.json) printJsonLine({ type: 'mismatch', ip, predicted: expected, actual, tsMs: nowMs() });
            else if (!finished) process.stdout.write(`  ? ${msg}\n`);
          }
          model.observe(ip, actual, nowMs(), ok ? undefined : 0);
        })
        .catch(() => undefined)
        .finally(() => checks.delete(settle))
    );
    checks.add(settle);
  };

  const onFrame = (frame: Buffer, tsMs: number) => {
    writer?.write(tsMs, frame);
    tracker.seen(frame, tsMs);
    const f = decodeFrame(frame, watch.linktype);
    // the address whose entry the frame is about: an ARP sender, an NA's target, an NS's source
    const subject = model.subjectOf(f);
    const about = subject !== undefined && (!argv.vip || subject === argv.vip);
    const prediction = about ? model.predict(f, tsMs) : undefined;
    const before = subject !== undefined ? model.entry(subject) : undefined;
    if (prediction && subject !== undefined) model.apply(subject, prediction, tsMs);
    const r = analyzer.add(tsMs, f, prediction);
    if (!r) return;
    // a problem only when the host keeps using another MAC for that address (no entry: nothing is wrong yet)
    if (prediction && r.gratuitous && !prediction.accepted && before && before.state !== 'NONE' && before.state !== 'FAILED' && before.state !== 'INCOMPLETE') {
      ignored.push(`${new Date(tsMs).toISOString().slice(11, 23)} ${r.label} from ${r.senderMac} for ${subject}: this host ignores it (${prediction.reason})`);
    }
    if (argv.json) printJsonLine({ type: 'frame', ...r });
    else {
      spinner?.clear();
      process.stdout.write(formatFrameLine(r) + '\n');
      spinner?.render();
    }
    if (prediction && subject !== undefined) {
      const ip = subject;
      const prev = pendingChecks.get(ip);
      if (prev) clearTimeout(prev.timer);
      const e = model.entry(ip);
      pendingChecks.set(ip, { timer: setTimeout(() => verify(ip), 150), prediction, tsMs, label: r.label, expected: { state: e.state, mac: e.mac } });
    }
  };

  warmUp(info.mac);
  let lost: string | undefined;
  const watch = openCapture(iface, filter, onFrame, {
    onLost: (detail) => {
      lost = detail;
      process.stderr.write(`hadiag: warning: ${detail}; nothing more is captured — bring it up (ip link set ${iface} up) and run again\n`);
    },
  });
  if (argv.json) printJsonLine({ type: 'listening', iface, filter, tsMs: nowMs() });
  let sender: ReturnType<typeof openCapture> | undefined;
  let spinner: { stop(): void; clear(): void; render(): void; text: string } | undefined;
  let nwatch: { stop(): void } | undefined;

  const finish = (interrupted: boolean) => {
    if (finished) return;
    finished = true;
    tracker.stop();
    nwatch?.stop();
    for (const p of pendingChecks.values()) clearTimeout(p.timer);
    spinner?.stop();
    sender?.close();
    watch.close();
    writer?.close();
    const summary = analyzer.summary();
    const send = tracker.frames.length ? tracker.summary() : undefined;
    const verdict = judge(summary, { ignored, send });
    const notes: string[] = [];
    if (writer) notes.push(`${writer.count} frame(s) written to ${writer.path}`);
    if (interrupted) notes.push('stopped by Ctrl-C');
    if (lost) notes.push(`${lost}: the watch ended early`);
    const st = watch.stats();
    if (argv.json) printJsonLine({ type: 'summary', summary, send, verification, captured: st.received, written: writer ? { path: writer.path, frames: writer.count } : undefined, ...verdict, ...(lost ? { healthy: false, captureLost: lost } : {}) });
    else process.stdout.write(formatSummary(summary, { send, verification, notes }) + (verdict.healthy && !lost ? 'healthy\n' : `problems: ${verdict.problems.length + (lost ? 1 : 0)}\n`));
    process.exitCode = verdict.healthy && !lost ? EXIT_HEALTHY : EXIT_PROBLEM;
  };

  let stopWait: () => void = () => {};
  const onSigint = () => {
    finish(true);
    process.exit(Number(process.exitCode ?? 0));
  };
  process.prependOnceListener('SIGINT', onSigint);
  try {
    // keep the tracked entries in step with changes that come from traffic and timers, at their real times
    // A change caused by a captured frame may reach us (netlink via `ip monitor`) just before that frame's
    // capture callback: wait 30 ms, and leave it to the prediction (and its check) if a frame for that
    // address arrived around it.
    nwatch = neigh.watchNeigh(iface, (ip, e, tsMs) => {
      setTimeout(() => {
        if (finished) return;
        const p = pendingChecks.get(ip);
        if (p && p.tsMs >= tsMs - 50) return;
        const cur = model.entry(ip);
        // a monitor line may lack the MAC (FAILED, INCOMPLETE); keep what we had for valid states
        model.observe(ip, { state: e.state, mac: e.mac ?? (e.state === 'NONE' || e.state === 'FAILED' || e.state === 'INCOMPLETE' ? undefined : cur.mac), router: e.router }, tsMs, 0);
      }, 30);
    });
    if (ndSysctls) nwatch = withNeigh6Poll(nwatch, () => (finished ? undefined : neigh.readNeighTable6(iface)), model, (ip) => pendingChecks.has(ip));
    // (ora loops forever on a terminal that reports 0 columns, e.g. `script` without a size)
    if (interactive() && !argv.json && (process.stderr.columns ?? 0) > 0) {
      const { default: ora } = await import('ora');
      const what = argv.vip ? `${v6 ? 'neighbour discovery' : 'ARP'} about ${argv.vip}` : 'ARP and neighbour discovery';
      spinner = ora({ text: `listening on ${iface} for ${what}${durationMs !== undefined ? ` for ${argv.duration}` : ' (Ctrl-C to stop)'}`, stream: process.stderr }).start();
    }
    const waits: Promise<void>[] = [];
    if (tracker.frames.length) {
      sender = openCapture(iface, 'less 1', () => {});
      const s = sender;
      const sent = tracker.run((fr) => s.send(fr), nowMs);
      if (durationMs === undefined) waits.push(sent.then(() => new Promise((r) => setTimeout(r, 1000))));
    }
    if (durationMs !== undefined) waits.push(new Promise((r) => setTimeout(r, durationMs)));
    if (!waits.length) waits.push(new Promise<void>((r) => (stopWait = r)));
    await Promise.all(waits);
    for (const ip of [...pendingChecks.keys()]) {
      clearTimeout(pendingChecks.get(ip)!.timer);
      verify(ip);
    }
    await Promise.all([...checks]);
  } finally {
    process.removeListener('SIGINT', onSigint);
    void stopWait;
    finish(false);
  }
}

export const garpCheckCommand: CommandModule<object, Args> = {
  command: 'garp-check [iface]',
  describe: 'see, validate and send gratuitous ARPs, and tell whether this host would accept them',
  builder: (y) =>
    y
      .positional('iface', { type: 'string', describe: 'watch live on this interface (needs root)' })
      .option('vip', { type: 'string', describe: 'only frames about this IPv4 or IPv6 address (the floating IP); needed for --send' })
      .option('duration', { type: 'string', describe: 'how long to watch (with a unit: 30s, 2m); default until Ctrl-C, or until --send is done' })
      .option('send', { type: 'string', describe: 'send announcements for --vip by this strategy spec (repeatable), e.g. both:count=10,interval=250ms' })
      .option('mac', { type: 'string', describe: "announce this MAC instead of the interface's (with --send)" })
      .option('read', { type: 'string', describe: 'analyse a capture file (pcap or pcapng, e.g. tcpdump -w on a client) instead of an interface' })
      .option('write', { type: 'string', describe: 'save what was captured live as pcap (default ./captures/garp-check-IFACE-TIME.pcap)' })
      .option('json', { type: 'boolean', default: false, describe: 'JSON lines live (audit, frame…, summary); one JSON document with --read' })
      .example('hadiag garp-check eth0 --vip 10.0.0.20', 'audit this host, then watch ARP about the VIP with a verdict per frame')
      .example('hadiag garp-check eth0 --vip 10.0.0.20 --send both:count=10,interval=250ms --send directed:10.0.0.5', 'send announcements and prove they left the host')
      .example('hadiag garp-check --read client.pcap --vip 10.0.0.20', "analyse a client's capture: who announced, did the client accept it")
      .example('hadiag garp-check eth0 --vip 2001:db8::20 --send na --send directed', 'IPv6: unsolicited NAs and an NS from the VIP to each known neighbour')
      .example('hadiag garp-check eth0 --vip 10.0.0.20 --duration 1m --write', 'watch for a minute and save the frames under ./captures/')
      .epilogue(
        [
          'Live: prints the host audit (arp_accept, drop_gratuitous_arp, ARP-family nftables rules, neighbour timers,',
          'the entry for --vip, the worst case this host keeps a dead MAC), then one line per ARP frame (time, Ethernet',
          'src → dst, op, sender MAC/IP → target MAC/IP, classification) with the prediction of what this kernel does with',
          'it, made from the state before the frame, then checked against `ip neigh`. Offline (--read) predicts for a stock',
          'Linux client and concludes what the clients in the capture did after the announcements.',
          '',
          'Strategy specs (--send): request | reply[:target=bcast|zero|own] | both | directed[:IP] | unicast-reply[:IP[@MAC]]',
          '  options: count=N or count=N+M@GAP (bursts), interval=250ms, target=, refresh=30s, vlan=N.',
          '  IPv6 --vip: na[:router=on|off,override=off,lladdr=source|none] | directed[:IP[@MAC]][,via=ns|na] |',
          '  unicast-reply:IP@MAC | answer-probes | vmac (docs/ipv6.md).',
          '',
          'Healthy (exit 0): no announcement this host (or a client in the capture) ignored, no two MACs claiming the VIP,',
          'no malformed announcement, and every frame sent was seen leaving. A stock host that would keep a dead MAC',
          'for 53 s is a risk shown in the audit, not exit 1. Exit 1: a problem was found (also: the interface went down',
          'mid-watch). Exit 2: usage / environment.',
          '',
          '--json live: JSON lines {"type":"audit",…}, {"type":"frame", index, tsMs, relMs, ethSrc, ethDst, op, senderMac,',
          '  senderIp, targetMac, targetIp, kind, label, gratuitous, problems, prediction: {outcome, accepted, stateAfter,',
          '  macAfter, reason, uncertain?}, warnings}, {"type":"mismatch",…}, {"type":"summary", summary: {takeovers,',
          '  announcers, clients, warnings, conclusions, …}, send: [{spec, form, sent, seen, medianSeenAfterMs,',
          '  stockWithEntry, stockNoEntry}], verification: {checked, matched, mismatches}, healthy, problems}.',
          '--json --read: one document {file, format, linktype, frames: [...], truncated, summary, healthy, problems,',
          '  notes?}, written as it goes: each element of frames as its frame is decided (memory stays flat on any',
          '  capture length); the keys known only at the end follow the array.',
        ].join('\n'),
      ),
  handler: async (argv) => {
    if (argv.iface && argv.read) throw usageError('give an interface or --read FILE, not both', 'command line', 'hadiag garp-check eth0  or  hadiag garp-check --read client.pcap');
    if (!argv.iface && !argv.read) throw usageError('nothing to check', 'command line', 'name an interface (hadiag garp-check eth0) or a capture (--read client.pcap)');
    if (argv.vip !== undefined && !isIPv4(argv.vip) && !isIPv6(argv.vip)) throw usageError(`--vip "${argv.vip}" is not an IPv4 or IPv6 address`, '--vip', 'e.g. --vip 10.0.0.20 or --vip 2001:db8::20');
    if (argv.mac !== undefined && !normMac(argv.mac)) throw usageError(`--mac "${argv.mac}" is not a MAC address`, '--mac', 'e.g. --mac 02:00:00:00:00:12');
    const specs = ([] as string[]).concat(argv.send ?? []).map(String);
    if (argv.read) {
      if (specs.length) throw usageError('--send needs an interface, not --read', '--send', 'hadiag garp-check eth0 --vip IP --send SPEC');
      if (argv.write !== undefined) throw usageError('--write saves a live capture; with --read there is nothing new to save', '--write', 'drop --write');
      if (argv.duration !== undefined) throw usageError('--duration is for live watching', '--duration', 'drop --duration with --read');
      await checkFile(argv);
      return;
    }
    if (specs.length && !argv.vip) throw usageError('--send needs --vip (the address to announce)', '--send', 'add --vip 10.0.0.20');
    const strategies = specs.map((s) => parseStrategy(s, '--send'));
    for (const s of strategies) announcementLanguage.checkFamily(s, isIPv6(argv.vip!) ? 6 : 4, '--send');
    if (argv.duration !== undefined) parseDuration(argv.duration, 'duration');
    await checkLive(argv, strategies);
  },
};
