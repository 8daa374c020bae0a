import type { CommandModule } from 'yargs';
import Table from 'cli-table3';
import { EXIT_HEALTHY, EXIT_PROBLEM } from '../core/errors.js';
import { printJson } from './output.js';
import { controlRequest } from '../effects/node/daemon.js';
import { DEFAULT_STATE_DIR } from '../effects/node/options.js';

interface Args {
  action: 'status' | 'standby' | 'takeover';
  'state-dir': string;
  json: boolean;
}

type Status = Record<string, any>;

function ago(ms?: number): string {
  if (ms === undefined) return 'never';
  const d = Date.now() - ms;
  return d < 1000 ? `${Math.round(d)} ms ago` : `${(d / 1000).toFixed(1)} s ago`;
}

export function renderNodeStatus(s: Status): string {
  const lines: string[] = [];
  lines.push(`node ${s.node}: ${s.status} (generation ${Number(s.generation).toString(16)}, seq ${s.seq}, resources ${s.resourceState}, holds ${s.holds}${s.standby !== 'not' ? `, standby ${s.standby}` : ''}) pid ${s.pid}`);
  const peers = new Table({ head: ['node', 'state', 'says', 'last heard', 'generation', 'ip'], style: { head: [], border: [] } });
  peers.push([s.node, s.status, '(this node)', '', Number(s.generation).toString(16), '']);
  for (const p of s.peers) peers.push([p.name, p.status, p.reported ?? '', ago(p.lastHeardMs), p.generation !== undefined ? Number(p.generation).toString(16) : '', p.ip ?? '']);
  lines.push(peers.toString());
  if (s.pingNodes?.length) {
    const ping = new Table({ head: ['ping node', 'hosts', 'status', 'last reply'], style: { head: [], border: [] } });
    for (const p of s.pingNodes as Status[]) ping.push([p.name, p.hosts.join(' '), p.status, ago(p.lastReplyMs) + (p.lastHost && p.hosts.length > 1 ? ` (${p.lastHost})` : '')]);
    lines.push(ping.toString());
  }
  if (s.ipfail) {
    const f = s.ipfail as Status;
    lines.push(`ipfail (built in): ${f.count} ping node(s) up here, peer said ${f.peerCount ?? '(nothing yet)'}${f.giveupAt ? `; giving up ${f.giveup} in ${Math.max(0, Math.round(f.giveupAt - Date.now()))} ms` : ''}${f.waitingForStable ? '; waiting for resources to settle' : ''}`);
  }
  const groups = new Table({ head: ['resource group', 'home', 'holder'], style: { head: [], border: [] } });
  for (const g of s.groups) groups.push([g.label, g.home, (g.holder ?? 'nobody') + (g.pending ? ' (in transition)' : '')]);
  lines.push(groups.toString());
  for (const r of (s.respawn ?? []) as Status[]) lines.push(`respawn: "${r.command}" as ${r.user}: ${r.pid ? `pid ${r.pid}` : 'not running'}, restarted ${r.restarts} time(s)`);
  if (s.vips?.length) lines.push(`addresses added here: ${s.vips.join(', ')}`);
  if (s.clients?.length) {
    const shown = (s.clients as Status[]).slice(0, 8).map((c) => `${c.ip}${c.mac ? ` ${c.mac}` : ''} (${c.source})`);
    lines.push(`clients known (addressed by per-client announcements): ${shown.join(', ')}${s.clients.length > 8 ? `, … ${s.clients.length} in all` : ''}`);
  }
  const c = { ...s.counters, ...s.daemon };
  lines.push(
    `counters: auth failures ${c.authFailures}, unknown nodes ${c.unknownNode}, malformed ${c.malformed + c.malformedFields}, replays rejected ${c.replaysRejected}, ` +
      `forged generations rejected ${c.generationRejected}, seq jumps rejected ${c.seqJumpsRejected}, seq re-syncs ${c.seqResyncs ?? 0}, duplicates ${c.duplicates}, retransmits asked ${c.retransmitRequests} / sent ${c.retransmitsSent}, GARPs sent ${c.garpsSent}`,
  );
  lines.push(`media: ${s.media.join(', ')}; RSS ${(s.rssBytes / 1048576).toFixed(1)} MB`);
  return lines.join('\n') + '\n';
}

/** Healthy: every peer up/active, no ping node dead, and every group held by exactly one live node. */
export function nodeHealthy(s: Status): boolean {
  return s.peers.every((p: Status) => p.status !== 'dead') && (s.pingNodes ?? []).every((p: Status) => p.status !== 'dead') && s.groups.every((g: Status) => g.holder);
}

export const nodeCommand: CommandModule<object, Args> = {
  command: 'node <action>',
  describe: 'talk to a running `hadiag run-node`: status (like cl_status), standby (like hb_standby), takeover (like hb_takeover)',
  builder: (y) =>
    y
      .positional('action', { choices: ['status', 'standby', 'takeover'] as const, demandOption: true, describe: 'what to do' })
      .option('state-dir', { type: 'string', default: DEFAULT_STATE_DIR, describe: 'the running node’s state directory (its control socket)' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document' })
      .example('hadiag node status', 'node states, who holds each resource group, counters')
      .example('hadiag node standby', 'give this node’s resources to the peer')
      .example('hadiag node takeover --state-dir /tmp/n1', 'ask the peer to hand everything to this node')
      .epilogue(
        [
          'Healthy (exit 0): every node is up/active, no ping node is dead and every resource group has a',
          'holder. Exit 1: a node or ping node is dead, or a group has no holder. Exit 2: no node is running with that state directory.',
          'standby/takeover start Heartbeat’s three-phase standby protocol and return at once.',
          '',
          '--json prints the node status: {node, status, generation, seq, resourceState, holds, standby,',
          'peers: [{name, status, reported, lastHeardMs, generation, ip}], groups: [{index, label, home, holder,',
          'pending}], pingNodes?: [{name, hosts, status: init|ping|dead, lastReplyMs, lastHost}], ipfail?: {count,',
          'peerCount, giveupAt, giveup, waitingForStable}, counters: {...}, daemon: {authFailures, malformed, ...}, media, vips, garp, clients: [{ip, mac?, source}], rssBytes}.',
        ].join('\n'),
      ),
  handler: async (argv) => {
    const r = await controlRequest(argv['state-dir'], argv.action);
    if (!r.ok || !r.status) {
      process.stderr.write(`hadiag: node ${argv.action}: ${r.error ?? 'failed'}\n`);
      process.exitCode = EXIT_PROBLEM;
      return;
    }
    if (argv.json) printJson(r.status);
    else {
      if (argv.action !== 'status') process.stdout.write(`${argv.action} requested\n`);
      process.stdout.write(renderNodeStatus(r.status));
    }
    process.exitCode = nodeHealthy(r.status) ? EXIT_HEALTHY : EXIT_PROBLEM;
  },
};
