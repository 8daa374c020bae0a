/**
 * Pure part of ha.cf's `logfacility` (syslog): facility names → numbers, node log levels → syslog severities,
 * the `<PRI>`-prefixed line fed to `logger --prio-prefix`, the test-only target override and logger's argv.
 * No I/O here (the `logger` child lives in syslog-pipe.ts).
 */
import { envError } from '../../core/errors.js';
import type { Level } from './log.js';

/** syslog tag (ident) of the node's messages: `hadiag[<pid>]: …` (Heartbeat's is `heartbeat[<pid>]`) */
export const SYSLOG_TAG = 'hadiag';

/** RFC 5424 facility codes (the same numbers as <syslog.h> LOG_* >> 3). */
const FACILITIES: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

/** syslog severities of the node log levels (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG) */
const SEVERITY: Record<Level, number> = { error: 3, warn: 4, info: 6, debug: 7 };

/**
 * Facility number of an ha.cf `logfacility` value (case-insensitive), or undefined for `none`, an absent
 * value or a name that is not a facility (ha.cf's parser already refuses those).
 */
export function facilityCode(name: string | undefined): number | undefined {
  return name === undefined ? undefined : FACILITIES[name.toLowerCase()];
}

export function severityOf(level: Level): number {
  return SEVERITY[level];
}

/** PRI = facility * 8 + severity */
export function priority(facility: number, level: Level): number {
  return facility * 8 + SEVERITY[level];
}

/**
 * One line for `logger --prio-prefix`: `<PRI>node: LEVEL: event: text\n`. Control characters (newlines
 * included) become spaces so one record is always one syslog message.
 */
export function formatSyslogLine(facility: number, r: { level: Level; event: string; text: string }, node: string): string {
  // eslint-disable-next-line no-control-regex
  const body = `${node}: ${r.level.toUpperCase()}: ${r.event}: ${r.text}`.replace(/[\x00-\x1f\x7f]/g, ' ');
  return `<${priority(facility, r.level)}>${body}\n`;
}

export type SyslogTarget = { kind: 'default' } | { kind: 'udp'; host: string; port: number } | { kind: 'unix'; path: string };

/** Name of the test-only environment variable that redirects the node's syslog messages. */
export const SYSLOG_TARGET_ENV = 'HADIAG_SYSLOG_TARGET';

/**
 * HADIAG_SYSLOG_TARGET (for tests only; unset = the system's /dev/log):
 *   `udp:127.0.0.1:PORT` — send to a UDP syslog receiver on loopback (logger `--server --port --udp`);
 *                          only loopback (127.0.0.0/8) hosts are accepted, tests must not leave the machine;
 *   `unix:/path`         — send to another unix socket (logger `--socket`).
 * Throws a one-line HadiagError (exit 2) for anything else.
 */
export function parseSyslogTarget(value: string | undefined): SyslogTarget {
  if (value === undefined || value === '') return { kind: 'default' };
  const where = `environment ${SYSLOG_TARGET_ENV}=${value}`;
  const fix = 'use udp:127.0.0.1:PORT or unix:/path (tests only), or unset it for /dev/log';
  const udp = /^udp:(127\.\d{1,3}\.\d{1,3}\.\d{1,3}):(\d{1,5})$/.exec(value);
  if (udp) {
    const port = Number(udp[2]);
    const octetsOk = udp[1]!.split('.').every((o) => Number(o) <= 255);
    if (port >= 1 && port <= 65535 && octetsOk) return { kind: 'udp', host: udp[1]!, port };
    throw envError('bad syslog target address or port', where, fix);
  }
  if (value.startsWith('unix:/') && value.length > 'unix:/'.length) return { kind: 'unix', path: value.slice('unix:'.length) };
  throw envError('unknown syslog target', where, fix);
}

/**
 * argv (without the program name) of the long-running `logger` that reads `<PRI>`-prefixed lines on its
 * stdin. RFC 3164 format everywhere (logger's default for remote targets would be RFC 5424); unix socket
 * errors reported (and fatal at start), so a missing /dev/log is noticed instead of silently dropping lines.
 */
export function loggerArgs(o: { tag: string; pid: number; target: SyslogTarget }): string[] {
  const args = ['--prio-prefix', '--rfc3164', '--socket-errors=on', '-t', o.tag, `--id=${o.pid}`];
  if (o.target.kind === 'udp') args.push('--server', o.target.host, '--port', String(o.target.port), '--udp');
  else if (o.target.kind === 'unix') args.push('--socket', o.target.path);
  return args;
}
