import type { Argv, CommandModule } from 'yargs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT_HEALTHY, EXIT_PROBLEM, EXIT_USAGE, HadiagError, envError, renderError, requireRoot, usageError } from '../core/errors.js';
import { isIpv4 } from '../codecs/ipv4-address.js';
import { isIPv6, ipv6FromBytes, ipv6ToBytes } from '../codecs/addr.js';
import { printJson } from './output.js';
import { readAuthkeys } from '../effects/config/load.js';
import { controlRequest } from '../effects/node/control.js';
import { Sidecar, DEFAULT_ANNOUNCE_STATE_DIR, DEFAULT_PEER_PORT, presentAddrs, type SidecarOptions } from '../effects/announce/sidecar.js';
import type { AnnounceReport } from '../effects/announce/garp-announcer.js';
import { runCleanups } from '../effects/io/cleanup.js';

interface Args {
  iface: string;
  vip?: string[];
  garp?: string[];
  'state-dir': string;
  json: boolean;
  once: boolean;
  peer?: string[];
  authkeys?: string;
  port: number;
  node?: string;
  debug?: boolean;
}

/** The options, defined once: the yargs command and the yargs-free entry (announceMain) both derive from this. */
const ANNOUNCE_OPTIONS: readonly { name: string; type: 'string' | 'boolean' | 'number'; array?: boolean; default?: string | boolean | number; describe: string }[] = [
  { name: 'vip', type: 'string', array: true, describe: 'a VIP to watch (repeatable)' },
  { name: 'garp', type: 'string', array: true, describe: 'announcement strategy, spec language of run-node --garp (repeatable; default "default": directed for an IPv4 VIP, falling back to both:count=10,interval=250ms with no client known; na+directed+answer-probes for an IPv6 VIP)' },
  { name: 'state-dir', type: 'string', default: DEFAULT_ANNOUNCE_STATE_DIR, describe: 'where the control socket lives' },
  { name: 'once', type: 'boolean', default: false, describe: 'announce now, wait for the frames on the wire, exit' },
  { name: 'peer', type: 'string', array: true, describe: 'a peer sidecar to share the client book with (repeatable; needs --authkeys)' },
  { name: 'authkeys', type: 'string', describe: 'Heartbeat authkeys file (mode 600) signing the client book' },
  { name: 'port', type: 'number', default: DEFAULT_PEER_PORT, describe: 'UDP port of the client-book exchange (not Heartbeat’s 694)' },
  { name: 'node', type: 'string', describe: 'this sidecar’s name in logs and peer messages (default: hostname)' },
  { name: 'json', type: 'boolean', default: false, describe: 'JSON lines log (status / --once: one JSON document)' },
];

function sidecarOptions(a: Args): SidecarOptions {
  // an IPv6 VIP in the form `ip` prints it (events and frames are matched by text)
  const vips = (a.vip ?? []).map(String).map((v) => (isIPv6(v) ? ipv6FromBytes(ipv6ToBytes(v)) : v));
  if (!vips.length) throw usageError('no VIP to watch', 'command line', 'give --vip IP (repeat it for more)');
  for (const v of vips) if (!isIpv4(v) && !isIPv6(v)) throw usageError(`not an IPv4 or IPv6 address: ${v}`, '--vip', 'give the VIP, e.g. --vip 198.18.0.20 or --vip 2001:db8::20');
  const peers = (a.peer ?? []).map(String);
  for (const p of peers) if (!isIpv4(p)) throw usageError(`not an IPv4 address: ${p}`, '--peer', 'the peer sidecar’s address');
  if (peers.length && !a.authkeys) throw usageError('--peer needs --authkeys', 'command line', 'give the authkeys file both sidecars share (Heartbeat format)');
  if (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535) throw usageError(`bad port ${a.port}`, '--port', '1–65535');
  return { iface: a.iface, vips, garp: (a.garp ?? []).map(String), stateDir: a['state-dir'], json: a.json, peers, port: a.port, ...(a.node ? { node: a.node } : {}) };
}

/** Run until SIGTERM/SIGINT; 0 after a clean stop. */
async function runSidecar(s: Sidecar): Promise<number> {
  await s.start(true);
  await s.reconcile('start');
  // a daemon's SIGTERM is its normal stop (exit 0): it takes the signals over from the cleanup registry's
  // exit-143 handlers, closes itself, then runs the registry's cleanups
  await new Promise<void>((res) => {
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      process.removeAllListeners(sig);
      process.once(sig, () => res());
    }
  });
  await s.close();
  await runCleanups();
  return EXIT_HEALTHY;
}

/** --once: announce what is here now and judge it. */
async function runOnce(s: Sidecar, o: SidecarOptions): Promise<number> {
  // o.json: the document; the sidecar's own log is text on stderr
  await s.start(false);
  const here = await presentAddrs(o.iface);
  const absent = o.vips.filter((v) => !here.has(v));
  const present = o.vips.filter((v) => here.has(v));
  const waits = present.map((v) => s.finished(v));
  await s.reconcile('start');
  const reports: AnnounceReport[] = await Promise.all(waits);
  await s.close();
  const results = [
    ...absent.map((vip) => ({ vip, verdict: 'not-here' as const })),
    ...reports.map((r) => ({ vip: r.vip, verdict: (r.seen ?? 0) > 0 ? ('confirmed' as const) : ('not-confirmed' as const), planned: r.planned, sent: r.sent, seen: r.seen ?? 0, firstSeenMs: r.firstSeenMs })),
  ];
  const ok = results.every((r) => r.verdict === 'confirmed');
  if (o.json) printJson({ iface: o.iface, ok, results });
  else {
    for (const r of results) {
      if (r.verdict === 'not-here') process.stdout.write(`${r.vip}: not on ${o.iface} — nothing announced (exit 1)\n`);
      else process.stdout.write(`${r.vip} on ${o.iface}: ${r.sent}/${r.planned} frames sent, ${r.seen} seen leaving${r.firstSeenMs !== undefined ? `, first ${r.firstSeenMs.toFixed(2)} ms after start` : ''}${r.verdict === 'not-confirmed' ? ' — not confirmed on the wire (exit 1)' : ''}\n`);
    }
  }
  return ok ? EXIT_HEALTHY : EXIT_PROBLEM;
}

function renderStatus(s: Record<string, any>): string {
  const lines = [`announce sidecar ${s.node} (pid ${s.pid}) on ${s.iface}: ${s.vips.map((v: any) => `${v.vip} ${v.held ? 'held here' : 'not here'}`).join(', ')}`];
  const shown = (s.clients as any[]).slice(0, 8).map((c) => `${c.ip}${c.mac ? ` ${c.mac}` : ''} (${c.source})`);
  lines.push(`clients known: ${s.clients.length}${shown.length ? ` — ${shown.join(', ')}${s.clients.length > 8 ? ', …' : ''}` : ''}`);
  const t = s.lastTakeover;
  lines.push(
    t
      ? `last takeover: ${t.vip} at ${new Date(t.addedMs).toISOString()}, first frame on the wire ${t.firstSeenMs !== undefined ? `${t.firstSeenMs} ms` : 'not seen'} after the address was added, ${t.seen ?? 0}/${t.planned ?? '?'} frames seen${t.removedAfterMs !== undefined ? `, address removed after ${t.removedAfterMs} ms` : ''}`
      : 'last takeover: none since start',
  );
  if (s.latencyMs) lines.push(`latency address added → first frame: median ${s.latencyMs.median} ms, max ${s.latencyMs.max} ms over ${s.latencyMs.count} takeover(s)`);
  for (const p of s.peers) lines.push(`peer ${p.ip}${p.name ? ` (${p.name})` : ''}${p.configured ? '' : ' (not configured)'}: auth ${p.auth}, accepted ${p.accepted}, rejected ${p.rejected}${p.lastError ? ` (${p.lastError})` : ''}, clients received ${p.clientsReceived}`);
  return lines.join('\n') + '\n';
}

async function status(a: Args): Promise<number> {
  let r;
  try {
    r = await controlRequest(a['state-dir'], 'status');
  } catch {
    throw envError('no announce sidecar is running here', a['state-dir'], 'start one with `hadiag announce IFACE --vip IP`, or give its --state-dir');
  }
  if (!r.ok || !r.status) throw envError(`the sidecar answered: ${r.error ?? 'no status'}`, a['state-dir']);
  if (a.json) printJson(r.status);
  else process.stdout.write(renderStatus(r.status));
  // a configured peer whose datagrams fail auth cannot share its book: a problem; strangers are only counted
  return (r.status.peers as any[]).some((p) => p.configured && p.auth === 'failed') ? EXIT_PROBLEM : EXIT_HEALTHY;
}

export const announceCommand: CommandModule<object, Args> = {
  command: 'announce <iface>',
  describe: 'sidecar for any HA manager (keepalived, Pacemaker, ucarp, Heartbeat): announce a VIP to every known client the moment it is added here; `announce status` asks a running one',
  builder: (y) =>
    (ANNOUNCE_OPTIONS.reduce(
      (b, o) => b.option(o.name, { type: o.type, ...(o.array ? { array: true } : {}), ...(o.default !== undefined ? { default: o.default } : {}), describe: o.describe }),
      y.positional('iface', { type: 'string', demandOption: true, describe: 'the interface the VIP is added on (or `status`)' }),
    ) as unknown as Argv<Args>)
      .example('hadiag announce eth0 --vip 192.0.2.10', 'announce the VIP to every known client whenever keepalived/Pacemaker adds it here')
      .example('hadiag announce eth0 --vip 192.0.2.10 --peer 192.0.2.2 --authkeys /etc/ha.d/authkeys', 'share the client book with the other node')
      .example('hadiag announce eth0 --vip 192.0.2.10 --once', 'announce now (from a notify script), exit 0 when the frames left')
      .example('hadiag announce status', 'clients known, last takeover and its latency, peers and their auth state')
      .epilogue(
        [
          'Runs until SIGTERM/SIGINT (exit 0), removing its control socket. Watches addresses with `ip -o -ts monitor address`;',
          'the capture/inject handles are open before any takeover. Learns clients all the time (ARP, traffic to the VIP,',
          'the neighbour table, peers). Announcements stop the moment the address is removed.',
          '--once: exit 0 when every VIP is here and its frames were seen leaving; 1 when a VIP is not here or its frames',
          'were not seen (the output says which); 2 on usage/environment errors. status: exit 0 when the sidecar answers, 1 when',
          'a configured peer’s last datagram failed auth (datagrams from other senders are counted only), 2 when none runs.',
          '',
          '--json: JSON lines {tsMs, node, level, event, text, ...}; events: start, address-added {vip, addedMs, eventDelayMs},',
          'garp-seen {vip, firstSeenMs}, garp {vip, planned, sent, seen}, address-removed {vip, removedAfterMs}, clients,',
          'peer-clients {from, clients}, peer-rejected {from, detail}, exit. status --json: {node, pid, iface, vips: [{vip, held}],',
          'clients: [{ip, mac?, source}], takeovers, lastTakeover, latencyMs: {count, median, max}, peers: [{ip, name, auth (never-heard|ok|failed|malformed|replay),',
          'accepted, rejected, lastError, clientsReceived}], port, rssBytes}.',
        ].join('\n'),
      ),
  handler: (argv) => runAnnounce(argv),
};

async function runAnnounce(argv: Args): Promise<void> {
  try {
    if (argv.iface === 'status') {
      process.exitCode = await status(argv);
      return;
    }
    requireRoot('announce');
    const o = sidecarOptions(argv);
    if (argv.authkeys) o.authkeys = await readAuthkeys(argv.authkeys);
    // --once --json prints one document at the end: its log goes to stderr as text
    const s = new Sidecar(argv.once ? { ...o, json: false } : o);
    process.exitCode = argv.once ? await runOnce(s, o) : await runSidecar(s);
  } catch (err) {
    process.stderr.write(renderError(err, !!argv.debug) + '\n');
    process.exitCode = err instanceof HadiagError ? err.exitCode : EXIT_USAGE;
  }
  // capture handles may keep the loop alive after close: a sidecar run ends here
  if (argv.iface !== 'status') process.exit(process.exitCode ?? EXIT_HEALTHY);
}

/**
 * `hadiag announce …` without the CLI (bin/hadiag.js calls this directly, as it does the node daemon's entry):
 * a long-running sidecar does not keep yargs and every other command in memory. --help goes to the CLI.
 */
export async function announceMain(args: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  const options: NonNullable<ParseArgsConfig['options']> = { debug: { type: 'boolean', default: false } };
  for (const o of ANNOUNCE_OPTIONS) options[o.name] = { type: o.type === 'boolean' ? 'boolean' : 'string', ...(o.array ? { multiple: true } : {}), ...(o.default !== undefined ? { default: o.type === 'number' ? String(o.default) : (o.default as string | boolean) } : {}) };
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
    if (parsed.positionals.length !== 1) throw new Error(parsed.positionals.length ? `unexpected argument: ${parsed.positionals[1]}` : 'name the interface (or status)');
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0]!.replace(/^Unknown option '([^']+)'.*/, 'unknown option $1');
    process.stderr.write(renderError(usageError(msg, 'command line', 'see hadiag announce --help'), false) + '\n');
    process.exit(EXIT_USAGE);
  }
  const v = parsed.values as Record<string, unknown>;
  const argv = { ...v, iface: parsed.positionals[0]!, port: Number(v.port) } as unknown as Args;
  await runAnnounce(argv);
}
