import { usageError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';

/** The lab's cluster timer setting, before each manager maps it to its own settings. */
export interface TimerSpec {
  /** What the user wrote: classic, fast or KEEPALIVE/DEADTIME. */
  text: string;
  preset?: 'classic' | 'fast';
  keepaliveMs: number;
  deadtimeMs: number;
}

export const TIMER_PRESETS = {
  classic: { keepaliveMs: 1000, deadtimeMs: 5000 },
  fast: { keepaliveMs: 200, deadtimeMs: 1000 },
} as const;

/** Parse `--timers classic|fast|KEEPALIVE/DEADTIME` (durations with units, e.g. 500ms/3s). */
export function parseTimers(text: string): TimerSpec {
  const t = String(text).trim();
  if (t === 'classic' || t === 'fast') return { text: t, preset: t, ...TIMER_PRESETS[t] };
  const m = /^([^/]+)\/([^/]+)$/.exec(t);
  if (!m) throw usageError(`timers "${t}" are not understood`, '--timers', 'write classic, fast or KEEPALIVE/DEADTIME with units, e.g. 500ms/3s');
  const keepaliveMs = parseDuration(m[1]!, 'timers');
  const deadtimeMs = parseDuration(m[2]!, 'timers');
  if (keepaliveMs < 10) throw usageError(`keepalive ${m[1]} is too short`, '--timers', 'use at least 10ms');
  if (deadtimeMs <= keepaliveMs) throw usageError(`deadtime ${m[2]} is not longer than keepalive ${m[1]}`, '--timers', 'make DEADTIME at least twice KEEPALIVE, e.g. 1s/5s');
  return { text: t, keepaliveMs, deadtimeMs };
}
