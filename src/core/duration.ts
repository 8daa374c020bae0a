import { usageError, configError } from './errors.js';

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const CLI_DURATION = /^(\d+(?:\.\d+)?)(us|ms|s|m|h)$/;

/**
 * Parse a command-line duration into milliseconds. Units are required (5ms, 2s, 1.5s, 1m);
 * a bare number is a usage error with a hint. One parser for every command.
 */
export function parseDuration(text: string, flag = 'duration'): number {
  const t = String(text).trim();
  const m = CLI_DURATION.exec(t);
  if (!m) {
    if (/^\d+(\.\d+)?$/.test(t)) {
      throw usageError(`${flag} "${t}" has no unit`, `--${flag}`, `write ${t}s or ${t}ms (units: us, ms, s, m, h)`);
    }
    throw usageError(`${flag} "${t}" is not a duration`, `--${flag}`, 'write a number with a unit, e.g. 5ms, 2s, 1m');
  }
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** Render milliseconds the way hadiag prints durations: "850 ms", "5.21 s", "2 m 3 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const abs = Math.abs(ms);
  if (abs < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (abs < 1000) return `${ms < 10 ? ms.toFixed(2) : ms.toFixed(0)} ms`;
  if (abs < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const m = Math.floor(abs / 60_000);
  return `${ms < 0 ? '-' : ''}${m} m ${((abs - m * 60_000) / 1000).toFixed(0)} s`;
}

/**
 * Heartbeat's ha.cf rule: a bare number is seconds (may be fractional), an `ms` suffix is milliseconds.
 * `where` is "file:line" for the error message.
 */
export function parseHaCfDuration(text: string, directive: string, where: string): number {
  const t = text.trim();
  let m = /^(\d+(?:\.\d+)?)ms$/.exec(t);
  if (m) return Math.round(Number(m[1]));
  m = /^(\d+(?:\.\d+)?)$/.exec(t);
  if (m) return Math.round(Number(m[1]) * 1000);
  const num = /^(\d+(?:\.\d+)?)/.exec(t)?.[1] ?? '5';
  throw configError(`${directive} "${t}"`, where, `write seconds (${num}) or milliseconds (${Math.round(Number(num) * 1000)}ms)`);
}
