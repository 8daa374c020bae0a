/**
 * The daemon's own log lines and counters (besides the machine's): what its parts emit, with at most one
 * line per event kind every few seconds for what arrives from the network.
 */
import { nowMs } from '../../core/clock.js';
import type { Level, NodeLog } from './log.js';

const LOG_EVERY_MS = 5000;

export interface DaemonCounters {
  datagrams: number;
  authFailures: number;
  malformed: number;
  /** accepted netstring messages whose auth field was wrong, among those checked (one every 5 s, links.ts) */
  innerAuthMismatch: number;
  logsSuppressed: number;
  sendErrors: number;
  garpsSent: number;
}

export const newDaemonCounters = (): DaemonCounters => ({ datagrams: 0, authFailures: 0, malformed: 0, innerAuthMismatch: 0, logsSuppressed: 0, sendErrors: 0, garpsSent: 0 });

export interface DaemonEmit {
  emit(level: Level, event: string, text: string, data?: Record<string, unknown>): void;
  rateEmit(level: Level, event: string, text: string): void;
}

export class DaemonLog implements DaemonEmit {
  /** set once the configuration names the log's destinations; lines before that are dropped */
  log?: NodeLog;
  private readonly lastLog = new Map<string, number>();

  constructor(private readonly counters: DaemonCounters) {}

  emit(level: Level, event: string, text: string, data?: Record<string, unknown>): void {
    this.log?.write({ tsMs: nowMs(), level, event, text, data });
  }

  rateEmit(level: Level, event: string, text: string): void {
    const now = nowMs();
    const last = this.lastLog.get(event);
    if (last !== undefined && now - last < LOG_EVERY_MS) {
      this.counters.logsSuppressed++;
      return;
    }
    this.lastLog.set(event, now);
    this.emit(level, event, text);
  }
}
