/**
 * Send a plan of announcements through any `send(frame)` (a capture handle) on schedule, and match what a
 * second capture handle saw against what was sent (Linux never loops a frame back to the socket that sent
 * it, so seeing it on another handle proves it left the host). No cap here: the handles are passed in.
 */
import type { PlannedFrame } from '../../models/strategy/language.js';
import { decodeFrame } from '../../codecs/decode.js';
import { stockClientVerdicts } from '../../models/resolution/host-model.js';

export interface SentFrame {
  spec: string;
  label: string;
  offsetMs: number;
  /** epoch ms when send() returned */
  sentMs?: number;
  /** epoch ms when the watching handle saw it */
  seenMs?: number;
  error?: string;
  frame: Buffer;
}

export interface SendSummaryRow {
  spec: string;
  form: string;
  sent: number;
  seen: number;
  failed: number;
  /** median ms from send() to the watching handle */
  medianSeenAfterMs?: number;
  /** what a stock Linux client does with this form: with an entry pointing elsewhere / with no entry */
  stockWithEntry: string;
  stockNoEntry: string;
}

export class SendTracker {
  readonly frames: SentFrame[] = [];
  private timers: NodeJS.Timeout[] = [];

  add(spec: string, plan: PlannedFrame[]): void {
    for (const p of plan) this.frames.push({ spec, label: p.label, offsetMs: p.offsetMs, frame: p.frame });
  }

  get spanMs(): number {
    return this.frames.reduce((m, f) => Math.max(m, f.offsetMs), 0);
  }

  /** Start sending; resolves when the last frame has been sent. */
  run(send: (frame: Buffer) => void, now: () => number): Promise<void> {
    const byOffset = new Map<number, SentFrame[]>();
    for (const f of this.frames) byOffset.set(f.offsetMs, [...(byOffset.get(f.offsetMs) ?? []), f]);
    const offsets = [...byOffset.keys()].sort((a, b) => a - b);
    return new Promise((resolve) => {
      let left = offsets.length;
      if (!left) return resolve();
      for (const off of offsets) {
        this.timers.push(
          setTimeout(() => {
            for (const f of byOffset.get(off)!) {
              try {
                send(f.frame);
                f.sentMs = now();
              } catch (err) {
                f.error = (err as Error).message;
              }
            }
            if (--left === 0) resolve();
          }, off),
        );
      }
    });
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }

  /** Feed every frame the watching handle captured. Returns the matching sent frame, if any. */
  seen(frame: Buffer, tsMs: number): SentFrame | undefined {
    const f = this.frames.find((x) => x.seenMs === undefined && x.sentMs !== undefined && x.frame.equals(frame));
    if (f) f.seenMs = tsMs;
    return f;
  }

  summary(): SendSummaryRow[] {
    const rows = new Map<string, SendSummaryRow & { lat: number[] }>();
    for (const f of this.frames) {
      const form = f.label.replace(/ \d+\/\d+.*$/, '');
      const key = `${f.spec}\u0000${form}`;
      let r = rows.get(key);
      if (!r) {
        const v = stockClientVerdicts(decodeFrame(f.frame));
        const say = (p?: { outcome: string; stateAfter: string }) => (!p ? '?' : p.outcome === 'ignore' ? 'ignores' : `${p.outcome}s → ${p.stateAfter}`);
        r = { spec: f.spec, form, sent: 0, seen: 0, failed: 0, stockWithEntry: say(v?.withEntry), stockNoEntry: say(v?.noEntry), lat: [] };
        rows.set(key, r);
      }
      if (f.sentMs !== undefined) r.sent++;
      if (f.error) r.failed++;
      if (f.seenMs !== undefined) {
        r.seen++;
        if (f.sentMs !== undefined) r.lat.push(f.seenMs - f.sentMs);
      }
    }
    return [...rows.values()].map(({ lat, ...r }) => {
      const s = [...lat].sort((a, b) => a - b);
      return s.length ? { ...r, medianSeenAfterMs: s[Math.floor(s.length / 2)]! } : r;
    });
  }
}
