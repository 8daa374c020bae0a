import { readFile } from 'node:fs/promises';
import type { CommandModule } from 'yargs';
import { EXIT_HEALTHY, EXIT_PROBLEM, usageError } from '../core/errors.js';
import { interactive, printJson } from './output.js';
import { readAuthkeys, unreadable } from '../effects/config/load.js';
import { parseHaCf } from '../models/config/hacf.js';
import { onCleanup } from '../effects/io/cleanup.js';
import { PcapWriter } from '../effects/io/pcap-file.js';
import { parseDuration } from '../core/duration.js';
import { frameToDatagram } from '../models/inspect/datagrams.js';
import { openHeartbeatCapture } from '../effects/io/heartbeat-capture.js';
import { JsonArrayDocument } from './render/json-stream.js';
import { HeartbeatInspector, type InspectOptions, type InspectReport } from '../models/inspect/heartbeats.js';
import { formatMessageLine, formatSummary } from './render/inspect.js';

interface Args {
  iface?: string;
  read?: string;
  authkeys?: string;
  hacf?: string;
  port?: number;
  write?: string;
  duration: string;
  json: boolean;
}

async function inspectOptions(argv: Args): Promise<{ opts: InspectOptions; port: number }> {
  const opts: InspectOptions = {};
  let port = 694;
  if (argv.hacf) {
    let text: string;
    try {
      text = await readFile(argv.hacf, 'utf8');
    } catch (err) {
      throw unreadable(argv.hacf, err);
    }
    const cf = parseHaCf(text, argv.hacf);
    opts.nodes = cf.nodes;
    opts.keepaliveMs = cf.keepaliveMs;
    opts.deadtimeMs = cf.deadtimeMs;
    port = cf.media[0]?.port ?? cf.udpport;
  }
  // Reading a capture only verifies signatures: a copied key file need not be mode 600 (a node's must).
  if (argv.authkeys) opts.keys = (await readAuthkeys(argv.authkeys, { checkMode: false })).keys;
  if (argv.port !== undefined) {
    if (!Number.isInteger(argv.port) || argv.port < 1 || argv.port > 65535) throw usageError(`port "${argv.port}" is not a UDP port`, '--port', 'give 1–65535 (Heartbeat uses 694)');
    port = argv.port;
  }
  return { opts, port };
}

function finish(report: InspectReport, json: boolean): void {
  if (json) printJson(report);
  else process.stdout.write(formatSummary(report));
  process.exitCode = report.healthy ? EXIT_HEALTHY : EXIT_PROBLEM;
}

/**
 * --read: datagrams are inspected one at a time and each message's line (or JSON element) is written as it is
 * decided; the inspector keeps per-node state and counters, not the messages.
 */
async function inspectFile(path: string, argv: Args, opts: InspectOptions, port: number): Promise<void> {
  const capture = await openHeartbeatCapture(path, port);
  const ins = new HeartbeatInspector({ ...opts, keepMessages: false });
  const out = (text: string) => process.stdout.write(text);
  const doc = argv.json ? new JsonArrayDocument(out, {}, 'messages') : undefined;
  for await (const d of capture.datagrams) {
    const rec = ins.add(d);
    if (doc) doc.item(rec);
    else out(formatMessageLine(rec) + '\n');
  }
  const report = ins.report();
  const { stats } = capture.file;
  report.notes.push(...capture.file.limits);
  if (stats.truncated) report.notes.push(`${path} ends in the middle of a packet (capture cut short); the packets before it were inspected`);
  if (stats.untimed) report.notes.push(`${stats.untimed} pcapng record(s) carry no timestamp (simple packet blocks): left out`);
  if (report.counts.datagrams === 0) report.notes.push(`no UDP datagrams to port ${port} in ${path} (another --port?)`);
  if (doc) {
    doc.end({ ...report });
    process.exitCode = report.healthy ? EXIT_HEALTHY : EXIT_PROBLEM;
  } else finish(report, false);
}

async function inspectLive(iface: string, argv: Args, opts: InspectOptions, port: number): Promise<void> {
  const durationMs = parseDuration(argv.duration, 'duration');
  const { openCapture } = await import('../effects/io/capture.js');
  const ins = new HeartbeatInspector(opts);
  let writer: PcapWriter | undefined;
  let lost: string | undefined;
  const capture = openCapture(iface, `udp dst port ${port}`, (frame, tsMs) => {
    writer?.write(tsMs, frame);
    const d = frameToDatagram(frame, capture.linktype, tsMs, port);
    if (!d) return;
    const rec = ins.add(d);
    if (!argv.json) process.stdout.write(formatMessageLine(rec) + '\n');
  }, {
    onLost: (detail) => {
      lost = detail;
      process.stderr.write(`hadiag: warning: ${detail}; nothing more is captured — bring it up (ip link set ${iface} up) and run again\n`);
    },
  });
  try {
    if (argv.write) writer = PcapWriter.create(argv.write, capture.linktype);
  } catch (err) {
    capture.close();
    throw err;
  }
  const unregister = onCleanup(`capture on ${iface}`, () => {
    capture.close();
    writer?.close();
  });
  let spinner: { stop(): void } | undefined;
  if (interactive()) {
    const { default: ora } = await import('ora');
    spinner = ora({ text: `listening for Heartbeat on ${iface} udp/${port} for ${argv.duration}`, stream: process.stderr }).start();
  }
  try {
    await new Promise((r) => setTimeout(r, durationMs));
  } finally {
    spinner?.stop();
    capture.close();
    writer?.close();
    unregister();
  }
  if (writer) process.stderr.write(`hb-inspect: wrote ${writer.count} frames to ${writer.path}\n`);
  const report = ins.report();
  if (report.counts.datagrams === 0) report.notes.push(`no Heartbeat datagrams on ${iface} udp/${port} in ${argv.duration}`);
  if (lost) {
    report.warnings.push({ kind: 'capture-lost', message: `${lost}: the inspection ended early` });
    report.problems.push(`${lost}: the inspection ended early`);
    report.healthy = false;
  }
  finish(report, argv.json);
}

export const hbInspectCommand: CommandModule<object, Args> = {
  command: 'hb-inspect [iface]',
  describe: "see a cluster's Heartbeat messages: auth of both layers, per-node timing, generations and cluster events",
  builder: (y) =>
    y
      .positional('iface', { type: 'string', describe: 'capture live on this interface (needs root)' })
      .option('read', { type: 'string', describe: 'inspect a capture file (pcap or pcapng) instead of an interface' })
      .option('authkeys', { type: 'string', describe: 'authkeys file to verify both auth layers' })
      .option('hacf', { type: 'string', describe: 'ha.cf: node names, keepalive, deadtime and udpport to compare with' })
      .option('port', { type: 'number', describe: 'UDP port (default: udpport of --hacf, else 694)' })
      .option('write', { type: 'string', describe: 'live: also save the captured frames to this pcap file' })
      .option('duration', { type: 'string', default: '10s', describe: 'how long to listen live (with a unit: 30s, 2m)' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document (the report) instead of text' })
      .example('hadiag hb-inspect --read hb.pcap --authkeys /etc/ha.d/authkeys --hacf /etc/ha.d/ha.cf', 'inspect a capture with the cluster files')
      .example('hadiag hb-inspect eth0 --duration 30s --authkeys /etc/ha.d/authkeys', 'listen live for 30 s')
      .example('hadiag hb-inspect eth0 --duration 1m --write captures/hb.pcap', 'listen live and keep the capture for later --read')
      .example('hadiag hb-inspect --read hb.pcap --json | jq .events', 'the cluster events as data')
      .epilogue(
        [
          'Prints one line per message (time UTC, source, node, type, status, seq, generation,',
          'and the verdict of both auth layers — trailing token and auth field: OK / BAD /',
          'key index N unknown / no key given / missing), a table per node (messages, status',
          'interval vs keepalive, seq gaps, retransmit requests, generations, deadtime announced,',
          'auth failures), the cluster events (start, stop, takeover, failback, partition, …)',
          'and warnings.',
          '',
          'Healthy (exit 0): every message decodes and passes both auth layers (when --authkeys',
          'is given) and there is no warning: no node missing from ha.cf, no two generations of',
          'one node at once, no heartbeats to 0.0.0.0, one deadtime and one key index across',
          'nodes. An orderly stop / start / takeover / failback is healthy.',
          'Exit 1: a problem was found. Exit 2: bad usage, unreadable file or interface.',
          '',
          '--json: one document {messages: [...], healthy, problems[], notes[], firstTsMs, lastTsMs,',
          '  (with --read written as it goes: each message as it is inspected, the rest after the array)',
          '  counts: {datagrams, decoded, undecodable, authOk, authFailed, duplicates},',
          '  messages: [{n, tsMs, src, srcPort, dst, node, encoding, trailing, inner,',
          '    trailingIndex, innerIndex, authOk, duplicate, error?: {code, reason},',
          '    summary: {type, src, dest, seq, hg, ts, status, deadtimeMs, ackseq, …}}],',
          '  nodes: [{node, addresses, messages, statusMessages, statusIntervalMs, keepaliveMs,',
          '    seqGaps, rexmitRequests, generations, authFailures, deadtimesMs, lastDeadtimeMs,',
          '    keyIndexes, inHaCf}],',
          '  warnings: [{kind, node?, tsMs?, message}], events: [{tsMs, kind, node, peer?, detail}]}',
          '  Times are epoch milliseconds. More in docs/hb-inspect.md.',
        ].join('\n'),
      ),
  handler: async (argv) => {
    if (argv.iface && argv.read) throw usageError('give an interface or --read FILE, not both', 'command line', 'hadiag hb-inspect eth0  or  hadiag hb-inspect --read hb.pcap');
    if (argv.write && argv.read) throw usageError('--write saves a live capture', '--write with --read', 'drop --write (the file is already a capture)');
    if (!argv.iface && !argv.read) throw usageError('nothing to inspect', 'command line', 'name an interface (hadiag hb-inspect eth0) or a capture (--read hb.pcap)');
    const { opts, port } = await inspectOptions(argv);
    if (argv.read) await inspectFile(argv.read, argv, opts, port);
    else await inspectLive(argv.iface!, argv, opts, port);
  },
};
