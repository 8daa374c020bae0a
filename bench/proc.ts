/** Process figures from /proc: RSS, PSS (smaps_rollup), CPU ticks, for the footprint and capture benches. */
import { readFileSync } from 'node:fs';

const CLK_TCK = 100;

export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields after the command: state(0) … utime(11) stime(12)
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

export interface Memory {
  rssKb: number;
  pssKb: number;
}

export function memory(pid: number): Memory | undefined {
  try {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(t)?.[1] ?? NaN);
    return { rssKb: kb('Rss'), pssKb: kb('Pss') };
  } catch {
    return undefined;
  }
}

export function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(0, 3).join(' ').slice(0, 80);
  } catch {
    return '?';
  }
}
