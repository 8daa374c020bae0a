import type { CommandModule } from 'yargs';
import { isIPv6 } from 'node:net';
import { ipv6FromBytes, ipv6ToBytes } from '../codecs/addr.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseHaCf } from '../models/config/hacf.js';
import type { ClusterTimers } from '../models/measure/takeover.js';
import { joinServers, parseServerLog, type ServerCapture, type ServerLogEvent } from '../models/measure/cross-host.js';
import type { WireEvent } from '../models/measure/events.js';
import { EXIT_HEALTHY, EXIT_PROBLEM, requireRoot, usageError } from '../core/errors.js';
import { interactive, printJson, printJsonLine } from './output.js';
import { parseDuration, formatDuration } from '../core/duration.js';
import { openCaptureFile } from '../effects/io/capture-file.js';
import { analyze, type Analysis } from '../models/measure/analyze.js';
import { wireEventOf } from '../models/measure/frames.js';
import { MeasureStream, type NearEvents, type StreamOptions } from '../models/measure/stream.js';
import { measureLive, type LiveResult, type LiveState } from '../effects/measure/live.js';
import { renderOutageLine, renderReport, renderWatchSummary, TIMESTAMP_SOURCES } from './render/measure.js';
import { watchLive, type WatchOptions } from '../effects/measure/watch.js';
import { parseSize } from '../effects/io/pcap-ring.js';
import { renderSvg } from './render/measure-svg.js';

interface Args {
  vip: string;
  iface?: string;
  interval: string;
  timeout?: string;
  'until-recovered': boolean;
  expect?: string;
  trigger?: string;
  read?: string;
  write?: string;
  svg?: string;
  json: boolean;
  'check-duplicates': boolean;
  watch: boolean;
  'write-limit': string;
  hacf?: string;
  'server-capture'?: string[];
  'server-log'?: string[];
}

/** outages whose surrounding events --read keeps for --svg and --json */
const NEAR_OUTAGES_KEPT = 50;

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

function defaultCapturePath(vip: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `captures/measure-${vip}-${stamp}.pcap`;
}

function stateText(vip: string, s: LiveState): string {
  if (s.phase === 'starting') return `starting probes to ${vip}`;
  if (s.phase === 'outage') {
    const parts = [`outage ${((s.outageMs ?? 0) / 1000).toFixed(1)} s`];
    if (s.neighState) parts.push(`client in ${s.neighState}${s.neighMac ? ` ${s.neighMac}` : ''}`);
    if (s.unicastProbes) parts.push(`${s.unicastProbes} unicast probe${s.unicastProbes > 1 ? 's' : ''} to ${s.unicastProbeMac}`);
    return parts.join(' — ');
  }
  const trig = s.triggered ? ', trigger ran' : '';
  if (s.phase === 'recovered') return `recovered after ${((s.outageMs ?? 0) / 1000).toFixed(2)} s — probing ${vip}, ${s.outages} outage(s)${trig}`;
  return `probing ${vip} — ${s.sent} sent, ${s.lost} lost${trig}`;
}

export const measureFailoverCommand: CommandModule<object, Args> = {
  command: 'measure-failover [iface]',
  describe: 'on a client: probe the VIP fast through this host’s kernel, capture ARP, time each outage and say why it took that long',
  builder: (y) =>
    y
      .positional('iface', { type: 'string', describe: 'interface on the VIP’s subnet (default: from `ip route get VIP`)' })
      .option('vip', { type: 'string', demandOption: true, describe: 'the floating IPv4 or IPv6 address to probe (must be on a directly connected subnet); IPv6: ping -6, ICMPv6 and neighbour discovery' })
      .option('interval', { type: 'string', default: '5ms', describe: 'probe interval (1ms–1s; below 10ms ping keeps it exactly)' })
      .option('timeout', { type: 'string', describe: 'stop after this long in any case (default 120s)' })
      .option('until-recovered', { type: 'boolean', default: false, describe: 'stop once an outage has ended (and 2 s passed)' })
      .option('expect', { type: 'string', describe: 'expected takeover time: a longer outage is a problem (exit 1)' })
      .option('trigger', { type: 'string', describe: 'shell command run at t0 after 1 s of answered probes (e.g. a lab fault); stops 2 s after it has ended and the VIP answers again' })
      .option('read', { type: 'string', describe: 'analyze a capture taken elsewhere (must contain the echo probes to the VIP)' })
      .option('write', { type: 'string', describe: 'pcap of what was captured (default ./captures/measure-VIP-DATE.pcap)' })
      .option('svg', { type: 'string', describe: 'write a timeline picture (probes, ARP, neighbour state, cluster traffic)' })
      .option('check-duplicates', { type: 'boolean', default: false, describe: 'at the end, ask for the VIP by broadcast (arping -D): two answers = split brain' })
      .option('watch', { type: 'boolean', default: false, describe: 'run until SIGINT/SIGTERM (days if need be), one line per outage as it ends, a rolling capture, flat memory' })
      .option('write-limit', { type: 'string', default: '64MB', describe: 'with --watch: disk for the rolling capture (e.g. 64MB, 1GB) besides the ±30 s kept around each outage' })
      .option('hacf', { type: 'string', describe: 'the cluster’s ha.cf: its deadtime is the expected takeover time (else inferred from the Heartbeat rhythm or VRRP adverts on the wire)' })
      .option('server-capture', { type: 'string', array: true, describe: 'a capture taken on a server (run-node --capture, any tcpdump), repeatable: one cross-host timeline, clock offsets estimated from the probes seen at both ends' })
      .option('server-log', { type: 'string', array: true, describe: 'run-node’s log (--json lines or text), repeatable: when the address was added' })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON document with every event (--watch: one JSON line per outage, then a summary line)' })
      .example('hadiag measure-failover --vip 10.0.0.20', 'wait for a failover, report it (Ctrl-C to stop)')
      .example("hadiag measure-failover --vip 198.18.0.20 --trigger 'hadiag lab fault link-down server1' --expect 6s", 'cause a failover and time it')
      .example("hadiag measure-failover --vip 2001:db8::20 --trigger 'ssh server1 ip -6 addr del 2001:db8::20/64 dev eth0'", 'IPv6: the same, with the kernel’s verdict on each NA')
      .example('hadiag measure-failover --vip 10.0.0.20 --read client.pcap --svg t.svg', 'analyze a capture taken on a client')
      .example('hadiag measure-failover --vip 10.0.0.20 --watch --write /var/tmp/vip.pcap --write-limit 256MB', 'watch for days, one line per outage')
      .epilogue(
        [
          'Live: probes with `ping -D -O -n -i INTERVAL VIP` through this host’s kernel (so its ARP cache is',
          'what is tested), captures ARP, ICMP, Heartbeat UDP 694 and VRRP with tcpdump, follows the VIP’s',
          'neighbour entry with `ip -ts monitor neigh`, saves the capture. Needs root. Without --trigger or',
          '--until-recovered it runs until --timeout or Ctrl-C and reports every outage (flapping too).',
          '',
          'Timestamps (all CLOCK_REALTIME, one clock) and precision:',
          '  probes     ping -D -O: ping’s µs clock reading on each reply line; send time = reply − rtt;',
          '             lost probes interpolated on ping’s fixed schedule (exact below 10 ms intervals)',
          '  capture    tcpdump -U -w - pipe: kernel receive timestamps, µs',
          '  neighbour  ip -ts: ip’s clock when it read the netlink event (≲ 1 ms after the change)',
          '  An outage runs from the send time of the first unanswered probe to the reply time of the',
          '  first answered one: exact to one probe interval (it can miss up to one interval at the',
          '  start). With --read every time is the capture’s (kernel) timestamp.',
          '',
          'Healthy (exit 0): no outage, or each outage was bound by the cluster’s detection time (this',
          'host took the first announcement) and stayed within --expect. Exit 1: an outage exceeded',
          '--expect, announcements were ignored or missing (recovery only by the client’s own ARP',
          'timeout), the VIP never recovered, or two MACs owned the VIP at once (split brain: one ARP',
          'request answered by two MACs, or two VRRP masters). Exit 2: bad usage, VIP not on a',
          'directly connected subnet, missing interface, not root, unreadable capture.',
          '',
          'IPv6 VIP: ping -6, ICMPv6 echo and neighbour discovery (NS/NA read as ARP), ip -6 monitor',
          'neigh, the IPv6 sysctls; each NA/NS announcement carries the kernel’s verdict (why it was',
          'not taken: no override flag, no target link-layer option, drop_unsolicited_na …).',
          'JSON adds family: 6.',
          '',
          '--json: { vip, iface, client: {ip, mac}, intervalMs, problem, summary, timestampSources,',
          '  conflicts: [{tsMs, macs, evidence}], otherEchoStreams: [{srcIp, id, step, requests, answered, why}],',
          '  outages: [{ index, startTsMs, endTsMs, durationMs, lostProbes, macBefore, macAfter,',
          '    announcements, announcers: [{mac, forms, count, firstTsMs}], unicastProbesToOld,',
          '    broadcastRequests, switchTsMs, learnedBy,',
          '    timeline: [{tsMs, relMs, kind, text}],',
          '    diagnosis: {cause, problem, sentence, evidence, fixes: [{rank, side, title, detail}]} }],',
          '  events: {probes, wire, neigh}, capture, trigger, stoppedBy, sysctls }',
          '  With --read, events are those within 2 s of each outage (the file is streamed, never held).',
          '',
          '--watch: no timeout; runs until SIGINT/SIGTERM (or ping exits). Each outage is printed when it has',
          'ended and its 5 s announcement tail passed: one line (--json: one JSON line {type: "outage", ...the',
          'outage object above}); at the end one summary line ({type: "summary", vip, probesSent, probesAnswered,',
          'outages (count), conflicts, problem, summary, runStartTsMs, runEndTsMs, capture: {segments, kept}}).',
          'Exit 0 / 1 as above, judged on every outage of the run. The capture rolls: --write FILE is written as',
          'FILE.0001.pcap, FILE.0002.pcap, … (segments of 1/8 of --write-limit); the oldest are deleted once the',
          'segments exceed --write-limit (default 64MB), except those overlapping an outage ±30 s, which are kept.',
          'Not with --timeout, --until-recovered, --trigger, --svg or --read.',
          '  Times are epoch ms (floats). cause (docs/measure-failover.md has the decision rules):',
          '  detection-bound | announcements-ignored | no-announcement | not-sent | dropped-on-path |',
          '  late-announcement | port-not-forwarding | lossy-path | split-brain | same-mac | first-resolution |',
          '  never-recovered | unknown. degraded: [{fromTsMs, toTsMs, probes, lost, lossRate, lossRuns,',
          '  longestRun, outageSeqs}] — scattered loss, one finding per period, never outages.',
        ].join('\n'),
      ),
  handler: async (argv) => {
    const { intervalMs, timeoutMs, expectMs } = checkArgs(argv);
    const timers = timersOf(argv);
    if (argv.watch) return watch(argv, intervalMs, expectMs, timers);
    if (argv.read) return reportCapture(argv, intervalMs, expectMs, timers);
    const live = await runLive(argv, intervalMs, timeoutMs);
    const input = live.input;
    if (expectMs !== undefined) input.expectMs = expectMs;
    if (timers) input.timers = timers;
    const analysis: Analysis = await withServers(argv, analyze(input), input.wire);
    const events: NearEvents = { probes: input.probes, wire: input.wire, neigh: input.neigh };
    if (argv.svg) writeFileSync(argv.svg, renderSvg({ analysis, ...events }));
    if (argv.json) printJsonReport(argv, analysis, events, live);
    else {
      const extra: Parameters<typeof renderReport>[1] = { pcapPath: live.pcapPath };
      if (argv.svg) extra.svgPath = argv.svg;
      if (live.trigger) extra.trigger = live.trigger;
      process.stdout.write(renderReport(analysis, extra));
      if (live.stoppedBy === 'timeout' && analysis.outages.length === 0) process.stdout.write(`(stopped after ${formatDuration(timeoutMs)} without an outage)\n`);
    }
    process.exitCode = analysis.problem ? EXIT_PROBLEM : EXIT_HEALTHY;
  },
};

/** --hacf FILE: Heartbeat's keepalive and deadtime as configured (a bad file is a one-line error with its line). */
function timersOf(argv: Args): ClusterTimers | undefined {
  if (argv.hacf === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(argv.hacf, 'utf8');
  } catch (err) {
    throw usageError(`cannot read ${argv.hacf}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, '--hacf', 'give the path of the cluster’s ha.cf');
  }
  const cf = parseHaCf(text, argv.hacf);
  return { keepaliveMs: cf.keepaliveMs, deadtimeMs: cf.deadtimeMs, source: argv.hacf };
}

/** --server-capture / --server-log: read them and join them with the client's analysis (no flag: unchanged). */
async function withServers(argv: Args, a: Analysis, clientWire: readonly WireEvent[]): Promise<Analysis> {
  const files = argv['server-capture'] ?? [];
  const logs = argv['server-log'] ?? [];
  if (!files.length && !logs.length) return a;
  if (!files.length) throw usageError('--server-log needs the server’s capture too', '--server-log', 'add --server-capture FILE (run-node --capture writes one)');
  const servers: ServerCapture[] = [];
  for (const path of files) {
    const file = await openCaptureFile(path, 'icmp');
    const wire: WireEvent[] = [];
    for await (const r of file.records) {
      const e = wireEventOf(r.data, r.tsMs, r.linktype);
      if (e) wire.push(e);
    }
    servers.push({ name: path, wire });
  }
  const events: ServerLogEvent[] = [];
  for (const path of logs) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw usageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, '--server-log', 'give run-node’s log file (its --json output or ha.cf logfile)');
    }
    const found = parseServerLog(text);
    if (!found.length) throw usageError(`no address added in ${path}`, '--server-log', 'give run-node’s log (lines "resource: start …" or --json lines with event "resource", op "start")');
    events.push(...found);
  }
  return joinServers(a, clientWire, servers, events);
}

async function reportCapture(argv: Args, intervalMs: number, expectMs: number | undefined, timers: ClusterTimers | undefined): Promise<void> {
  const read = await analyzeCapture(argv, intervalMs, expectMs, timers);
  const { near, limits } = read;
  const analysis = await withServers(argv, read.analysis, near.wire);
  if (argv.svg) writeFileSync(argv.svg, renderSvg({ analysis, ...near }));
  if (argv.json) printJsonReport(argv, analysis, near, undefined, limits);
  else {
    const extra: Parameters<typeof renderReport>[1] = {};
    if (argv.svg) extra.svgPath = argv.svg;
    process.stdout.write(renderReport(analysis, extra));
    for (const l of limits) process.stdout.write(`note: ${l}\n`);
  }
  process.exitCode = analysis.problem ? EXIT_PROBLEM : EXIT_HEALTHY;
}

/** The flags --watch cannot go with (a run that ends, or a picture of the whole run). */
function checkWatchArgs(argv: Args): void {
  if (!argv.watch) return;
  const given = (flag: keyof Args) => argv[flag] !== undefined && argv[flag] !== false;
  if (argv.read) throw usageError('--watch needs a live run', '--watch', 'drop --read to analyze a file, or --watch to watch live');
  if (argv['server-capture']?.length || argv['server-log']?.length) throw usageError('--watch does not join server captures', '--server-capture', 'run measure-failover --read CLIENT.pcap --server-capture SERVER.pcap on a kept segment');
  for (const flag of ['timeout', 'until-recovered', 'trigger', 'svg', 'check-duplicates'] as const) {
    if (given(flag)) throw usageError(`--watch and --${flag} do not go together`, `--${flag}`, '--watch runs until SIGINT/SIGTERM: drop one of them');
  }
}

function checkArgs(argv: Args): { intervalMs: number; timeoutMs: number; expectMs: number | undefined } {
  checkWatchArgs(argv);
  if (isIPv6(argv.vip)) {
    // the canonical text, as ip, tcpdump and the capture decoder print it
    argv.vip = ipv6FromBytes(ipv6ToBytes(argv.vip));
    if (/^(ff|fe80:)/i.test(argv.vip)) throw usageError(`VIP ${argv.vip} is ${/^ff/i.test(argv.vip) ? 'a multicast' : 'a link-local'} address`, '--vip', 'give the floating global (or unique-local) IPv6 address, e.g. --vip 2001:db8::20');
    if (argv['check-duplicates']) throw usageError('--check-duplicates is IPv4 only (arping -D)', '--check-duplicates', 'drop it; for an IPv6 VIP, hadiag garp-check IFACE --vip VIP reports a DAD conflict');
  } else if (!IPV4.test(argv.vip)) throw usageError(`VIP "${argv.vip}" is not an IPv4 or IPv6 address`, '--vip', 'e.g. --vip 10.0.0.20 or --vip 2001:db8::20');
  if (argv.read && argv.iface) throw usageError('give an interface or --read, not both', 'command line', 'drop IFACE to analyze the file, or --read to measure live');
  if (argv.read && argv.trigger) throw usageError('--trigger needs a live run', '--trigger', 'drop --read');
  if (argv.read && argv['check-duplicates']) throw usageError('--check-duplicates needs a live run', '--check-duplicates', 'drop --read');
  const intervalMs = parseDuration(argv.interval, 'interval');
  if (intervalMs < 1 || intervalMs > 1000) throw usageError(`interval ${argv.interval} is out of range`, '--interval', 'use 1ms to 1s (5ms is the default)');
  const timeoutMs = parseDuration(argv.timeout ?? '120s', 'timeout');
  const expectMs = argv.expect !== undefined ? parseDuration(argv.expect, 'expect') : undefined;
  return { intervalMs, timeoutMs, expectMs };
}

/**
 * --read: the capture streamed through the analysis one record at a time (memory bounded by what is open, not
 * by the file); the events near each outage are kept for --svg and --json.
 */
async function analyzeCapture(argv: Args, intervalMs: number, expectMs: number | undefined, timers: ClusterTimers | undefined): Promise<{ analysis: Analysis; near: NearEvents; limits: string[] }> {
  const path = argv.read!;
  const file = await openCaptureFile(path, 'icmp');
  const opts: StreamOptions = { vip: argv.vip, intervalMs, keepNear: NEAR_OUTAGES_KEPT };
  if (expectMs !== undefined) opts.expectMs = expectMs;
  if (timers) opts.timers = timers;
  const stream = new MeasureStream(opts);
  for await (const r of file.records) {
    const e = wireEventOf(r.data, r.tsMs, r.linktype);
    if (e) stream.addWire(e);
  }
  const analysis = stream.finish();
  if (analysis.probesSent === 0) {
    throw usageError(`no echo probes to ${argv.vip} in the capture`, path, 'capture on the client while it pings the VIP (hadiag measure-failover --write FILE saves such a capture)');
  }
  return { analysis, near: stream.nearEvents(), limits: file.limits };
}

/** --watch: one line per outage as it ends, a summary line when stopped by a signal. */
async function watch(argv: Args, intervalMs: number, expectMs: number | undefined, timers: ClusterTimers | undefined): Promise<void> {
  const limitBytes = parseSize(argv['write-limit']);
  if (limitBytes === undefined || limitBytes < 64 * 1024) throw usageError(`--write-limit ${argv['write-limit']} is not a size of at least 64KB`, '--write-limit', 'write it with a unit, e.g. --write-limit 64MB');
  requireRoot('measure-failover --watch');
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  try {
    const opts: WatchOptions = {
      vip: argv.vip,
      intervalMs,
      writePath: argv.write ?? defaultCapturePath(argv.vip),
      limitBytes,
      signal: ac.signal,
      onOutage: (o) => (argv.json ? printJsonLine({ type: 'outage', ...o }) : process.stdout.write(renderOutageLine(o))),
    };
    if (argv.iface) opts.iface = argv.iface;
    if (expectMs !== undefined) opts.expectMs = expectMs;
    if (timers) opts.timers = timers;
    const res = await watchLive(opts);
    const a = res.analysis;
    const kept = res.segments.filter((s) => s.kept).length;
    if (argv.json) {
      const { outages, ...rest } = a;
      printJsonLine({ type: 'summary', ...rest, outages: outages.length, stoppedBy: res.stoppedBy, capture: { segments: res.segments.map((s) => s.path), kept } });
    } else process.stdout.write(renderWatchSummary(a, kept, res.segments.length));
    process.exitCode = a.problem ? EXIT_PROBLEM : EXIT_HEALTHY;
  } finally {
    process.removeListener('SIGINT', onSig);
    process.removeListener('SIGTERM', onSig);
  }
}

/** A live run with a spinner on a terminal; Ctrl-C stops measuring and analyzes what was seen. */
async function runLive(argv: Args, intervalMs: number, timeoutMs: number): Promise<LiveResult> {
  requireRoot('measure-failover (live)');
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  // ora loops forever clearing lines on a terminal that reports 0 columns (seen under `script`): no spinner there
  const useSpinner = interactive() && !argv.json && (process.stderr.columns ?? 0) > 0;
  const spinner = useSpinner ? (await import('ora')).default({ text: `starting probes to ${argv.vip}`, stream: process.stderr, discardStdin: false }).start() : undefined;
  let live: LiveResult;
  try {
    const opts: Parameters<typeof measureLive>[0] = {
      vip: argv.vip,
      intervalMs,
      timeoutMs,
      untilRecovered: argv['until-recovered'],
      writePath: argv.write ?? defaultCapturePath(argv.vip),
      signal: ac.signal,
      onState: (s) => {
        if (spinner) spinner.text = stateText(argv.vip, s);
      },
    };
    if (argv.iface) opts.iface = argv.iface;
    if (argv.trigger) opts.trigger = argv.trigger;
    if (argv['check-duplicates']) opts.checkDuplicates = true;
    live = await measureLive(opts);
    spinner?.stop();
  } catch (err) {
    spinner?.fail();
    throw err;
  } finally {
    process.removeListener('SIGINT', onSig);
    process.removeListener('SIGTERM', onSig);
  }
  if (live.trigger && live.trigger.exitCode !== 0) {
    const why = live.trigger.output.trim().split('\n')[0] || 'no output';
    process.stderr.write(`hadiag: warning: the trigger exited ${live.trigger.exitCode ?? 'abnormally'}: ${why}\n`);
  }
  if (live.trigger === undefined && argv.trigger) process.stderr.write('hadiag: warning: the trigger never ran (the VIP did not answer a probe first)\n');
  return live;
}

function printJsonReport(argv: Args, analysis: Analysis, events: NearEvents, live: LiveResult | undefined, limits: string[] = []): void {
  printJson({
    ...(argv.vip.includes(':') ? { family: 6 } : {}),
    ...analysis,
    timestampSources: argv.read ? { capture: TIMESTAMP_SOURCES.capture, probes: 'capture (kernel) timestamps of the echo requests and replies' } : TIMESTAMP_SOURCES,
    events,
    capture: live?.pcapPath ?? argv.read,
    ...(limits.length ? { limits } : {}),
    ...(live?.trigger ? { trigger: live.trigger } : {}),
    ...(live ? { stoppedBy: live.stoppedBy, sysctls: live.input.sysctls } : {}),
  });
}
