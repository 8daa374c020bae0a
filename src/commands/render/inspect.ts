/** Text rendering of hb-inspect results (the command prints these; --json prints the report itself). */
import Table from 'cli-table3';
import { formatDuration } from '../../core/duration.js';
import { verdictText, type InspectReport, type MessageRecord, type NodeStats } from '../../models/inspect/heartbeats.js';

/** HH:MM:SS.mmm in UTC. */
export function clock(tsMs: number): string {
  return new Date(tsMs).toISOString().slice(11, 23);
}

const hex = (n: number | undefined) => (n === undefined ? '-' : n.toString(16));

/** One line per message: time, source, node, type, status, seq, generation, auth per layer. */
export function formatMessageLine(r: MessageRecord): string {
  const from = `${r.src}:${r.srcPort}`.padEnd(21);
  const head = `${clock(r.tsMs)}  ${from}`;
  if (r.error) return `${head} ${'?'.padEnd(9)} not a Heartbeat message: ${r.error.code}: ${r.error.reason}`;
  const s = r.summary;
  const auth =
    r.encoding === 'classic'
      ? `auth ${verdictText(r.inner, r.innerIndex)} (classic)`
      : `auth trailing ${verdictText(r.trailing, r.trailingIndex)}, field ${verdictText(r.inner, r.innerIndex)}`;
  const cols = [
    head,
    (s.src ?? '?').padEnd(9),
    (s.type ?? '?').padEnd(15),
    (s.status ?? '-').padEnd(6),
    (s.seq === undefined && s.ackseq !== undefined ? `ack ${hex(s.ackseq)}` : `seq ${hex(s.seq)}`).padEnd(8),
    `hg ${hex(s.hg)}`.padEnd(11),
    auth,
  ];
  let line = cols.join(' ');
  if (s.dest) line += `  → ${s.dest}`;
  if (r.dst === '0.0.0.0') line += '  (to 0.0.0.0!)';
  if (r.duplicate) line += '  (duplicate)';
  return line;
}

function intervalCell(n: NodeStats): string {
  if (n.statusIntervalMs === undefined) return '-';
  const ka = n.keepaliveMs !== undefined ? ` (keepalive ${formatDuration(n.keepaliveMs)})` : '';
  return `${formatDuration(n.statusIntervalMs)}${ka}`;
}

/** The deadtime a node announces now, and any other it announced (7 s after a start, 35 s while restarting). */
function deadtimeCell(n: NodeStats): string {
  if (n.lastDeadtimeMs === undefined) return '-';
  const others = n.deadtimesMs.filter((d) => d !== n.lastDeadtimeMs);
  return formatDuration(n.lastDeadtimeMs) + (others.length ? ` (also ${others.map(formatDuration).join(', ')})` : '');
}

export function nodeTable(nodes: NodeStats[]): string {
  const t = new Table({
    head: ['node', 'address', 'messages', 'status every', 'seq gaps', 'rexmit req', 'generations', 'deadtime', 'auth failures'],
    style: { head: [], border: [] },
  });
  for (const n of nodes) {
    t.push([
      n.inHaCf === false ? `${n.node} (not in ha.cf)` : n.node,
      n.addresses.join(' '),
      String(n.messages),
      intervalCell(n),
      String(n.seqGaps),
      String(n.rexmitRequests),
      n.generations.map((g) => g.toString(16)).join(' '),
      deadtimeCell(n),
      String(n.authFailures),
    ]);
  }
  return t.toString();
}

/** The whole human report after the message lines. */
export function formatSummary(r: InspectReport): string {
  const out: string[] = [];
  const c = r.counts;
  const span = r.firstTsMs !== undefined && r.lastTsMs !== undefined ? ` over ${formatDuration(r.lastTsMs - r.firstTsMs)}` : '';
  out.push('');
  out.push(
    `${c.datagrams} datagrams${span}: ${c.decoded} Heartbeat messages${c.duplicates ? ` (${c.duplicates} duplicates)` : ''}, ${c.undecodable} not decodable; auth OK on ${c.authOk}, failed on ${c.authFailed}`,
  );
  if (r.nodes.length) out.push(nodeTable(r.nodes));
  out.push('');
  out.push(r.events.length ? 'Cluster events:' : 'Cluster events: none');
  for (const e of r.events) out.push(`  ${clock(e.tsMs)}  ${e.kind.padEnd(10)} ${e.detail}`);
  if (r.warnings.length) {
    out.push('');
    out.push('Warnings:');
    for (const w of r.warnings) out.push(`  ${w.tsMs !== undefined ? clock(w.tsMs) + '  ' : ''}${w.message}`);
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  out.push('');
  const keysChecked = !r.notes.some((n) => n.startsWith('authentication not checked'));
  const verdict = r.healthy
    ? keysChecked
      ? 'hb-inspect: healthy — every message passes both auth layers, no warnings'
      : 'hb-inspect: healthy as far as checked — no warnings, but auth was not verified (give --authkeys)'
    : `hb-inspect: ${r.problems.length} problem(s) found (see Warnings)`;
  out.push(verdict);
  return out.join('\n') + '\n';
}
