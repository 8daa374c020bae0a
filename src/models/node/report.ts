/**
 * The machine's log lines and counters: a log action, and at most one line per event kind every few seconds
 * for what an attacker can repeat (the counters keep the totals).
 */
import type { Counters, LogAction, LogLevel, Action } from './types.js';

const LOG_EVERY_MS = 5000;

export const newCounters = (): Counters => ({
  received: 0, accepted: 0, duplicates: 0, replaysRejected: 0, generationRejected: 0, generationChanges: 0,
  seqJumpsRejected: 0, seqResyncs: 0, unknownNode: 0, malformedFields: 0, retransmitRequests: 0, retransmitsSent: 0, naksSent: 0, peerDeaths: 0,
  peerClientLists: 0, badClientEntries: 0,
});

export function logAction(level: LogLevel, event: string, text: string, data?: Record<string, unknown>): LogAction {
  return data ? { type: 'log', level, event, text, data } : { type: 'log', level, event, text };
}

export class Reporter {
  readonly counters: Counters = newCounters();
  private readonly lastLog = new Map<string, number>();

  log(level: LogLevel, event: string, text: string, data?: Record<string, unknown>): LogAction {
    return logAction(level, event, text, data);
  }

  /** At most one log line per event kind every few seconds. */
  rateLog(level: LogLevel, event: string, text: string, now: number, data?: Record<string, unknown>): Action[] {
    const last = this.lastLog.get(event);
    if (last !== undefined && now - last < LOG_EVERY_MS) return [];
    this.lastLog.set(event, now);
    return [logAction(level, event, text, data)];
  }
}
