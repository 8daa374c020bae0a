/** Process figures from /proc: RSS, PSS (smaps_rollup), CPU ticks, for the footprint and capture benches. */
import { readFileSync, readdirSync } from 'node:fs';

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

/**
 * CPU time of every thread of a process in ms, from the scheduler's own account (/proc/PID/task/TID/schedstat,
 * ns): exact where utime + stime come in 10 ms ticks (an idle daemon uses a few ticks a minute). Threads that
 * ended are not counted (a long-lived daemon keeps its threads).
 */
export function cpuExactMs(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        /* the thread ended */
      }
    }
    return ns / 1e6;
  } catch {
    return cpuMs(pid);
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
