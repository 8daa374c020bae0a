import type { NeighEvent } from './events.js';

const NUD = new Set(['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'FAILED', 'INCOMPLETE', 'PERMANENT', 'NOARP', 'NONE']);
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const IPV6 = /^[0-9a-f]{0,4}(:[0-9a-f]{0,4}){2,7}$/i;
const TS_SHORT = /^\[(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})\]\s*/;

/**
 * Parse one line of `ip -ts monitor neigh` (run with TZ=UTC: `-ts` prints local time without a zone).
 * Lines without the `[YYYY-MM-DDTHH:MM:SS.µs]` stamp are accepted too and stamped with `arrivalTsMs`.
 * Returns undefined for anything that is not a neighbour event of `family` (4 by default: other callers read
 * IPv6 lines with their own parser; 6 for `ip -6 monitor neigh`, with the router flag).
 *   [2026-11-25T11:53:38.548504] 2001:db8::20 dev eth0 lladdr 02:00:c6:12:00:0b router STALE
 *   [2026-11-25T11:53:38.548504] 198.18.0.20 dev eth0 lladdr 02:00:c6:12:00:0b REACHABLE
 *   [2026-11-25T11:53:39.000001] Deleted 198.18.0.20 dev eth0 lladdr 02:00:c6:12:00:0b STALE
 *   [2026-11-25T11:53:40.000001] 198.18.0.20 dev eth0  FAILED
 */
export function parseNeighLine(line: string, arrivalTsMs?: number, family: 4 | 6 = 4): NeighEvent | undefined {
  let text = line.trim();
  let tsMs: number | undefined;
  let src: NeighEvent['src'] = 'arrival';
  const m = TS_SHORT.exec(text);
  if (m) {
    const [, y, mo, d, h, mi, s, us] = m;
    tsMs = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!) + Number(us) / 1000;
    src = 'ip-ts';
    text = text.slice(m[0].length);
  } else {
    tsMs = arrivalTsMs;
  }
  if (tsMs === undefined) return undefined;
  const tokens = text.split(/\s+/).filter(Boolean);
  let deleted = false;
  while (tokens[0] === 'Deleted' || tokens[0] === 'miss' || tokens[0] === 'delete') {
    if (tokens[0] !== 'miss') deleted = true;
    tokens.shift();
  }
  const ip = tokens[0];
  if (!ip || !(family === 6 ? IPV6 : IPV4).test(ip)) return undefined;
  const ev: NeighEvent = { tsMs, src, ip, states: [], deleted, raw: line.trim() };
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === 'dev' && tokens[i + 1]) ev.dev = tokens[++i];
    else if (t === 'lladdr' && tokens[i + 1]) ev.lladdr = tokens[++i]!.toLowerCase();
    else if (t === 'router') ev.router = true;
    else if (NUD.has(t)) ev.states.push(t);
  }
  return ev;
}

/** The one state a report shows for an event ("Deleted" wins, then the first NUD state). */
export function neighStateOf(ev: NeighEvent): string {
  if (ev.deleted) return 'DELETED';
  return ev.states[0] ?? 'NONE';
}
