/**
 * A capture handle that outlives its interface going down: when the link drops, libpcap's handle dies
 * (capture.ts `onLost`); this one then watches the interface's IFF_UP flag and opens a fresh handle as
 * soon as it is up again (cap objects are never reopened). A node keeps one per VIP interface for the
 * whole run, so an announcement after the link comes back leaves within milliseconds.
 */
import { openCapture, interfaceUp, type Capture, type CaptureStats } from './capture.js';
import { envError } from '../cli/errors.js';
import { existsSync } from 'node:fs';

export interface SteadyCaptureOptions {
  bufferSize?: number;
  /** the handle went down (`up` false, with why) or is open again (`up` true) */
  onState?: (up: boolean, detail: string) => void;
  /** how often the interface is looked at while it is down (ms; default 20) */
  pollMs?: number;
}

export class SteadyCapture {
  private cap?: Capture;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly totals: CaptureStats = { received: 0, bytes: 0, truncated: 0, sent: 0, callbackErrors: 0 };
  /** times the handle was opened again after the interface came back */
  reopens = 0;

  private validated = false;

  /**
   * Opens now, or (an existing interface that is down) as soon as it is up. A missing interface, a bad filter
   * or no permission throws as openCapture does.
   */
  constructor(
    readonly iface: string,
    readonly filter: string,
    private readonly onFrame: (frame: Buffer, tsMs: number) => void,
    private readonly opts: SteadyCaptureOptions = {},
  ) {
    if (existsSync(`/sys/class/net/${iface}`) && !interfaceUp(iface)) this.watch();
    else this.cap = this.open();
  }

  get up(): boolean {
    return !!this.cap && !this.cap.closed;
  }

  /** Send a frame; throws while the interface is down. */
  send(frame: Buffer): void {
    if (!this.cap || this.cap.closed) throw envError(`interface ${this.iface} is down`, 'send()', 'the frame is sent once it is up');
    this.cap.send(frame);
  }

  stats(): CaptureStats {
    const now = this.cap?.stats();
    const out = { ...this.totals };
    if (now) for (const k of Object.keys(out) as (keyof CaptureStats)[]) out[k] += now[k];
    return out;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.retire();
  }

  private open(): Capture {
    const cap = openCapture(this.iface, this.filter, this.onFrame, {
      bufferSize: this.opts.bufferSize,
      validate: !this.validated,
      onLost: (detail) => {
        this.retire();
        this.opts.onState?.(false, detail);
        this.watch();
      },
    });
    this.validated = true;
    return cap;
  }

  /** Keep the totals of a handle that is going away. */
  private retire(): void {
    const c = this.cap;
    this.cap = undefined;
    if (!c) return;
    const s = c.stats();
    for (const k of Object.keys(this.totals) as (keyof CaptureStats)[]) this.totals[k] += s[k];
    c.close();
  }

  private watch(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      if (this.closed) return;
      if (!interfaceUp(this.iface)) return this.watch();
      try {
        const first = !this.validated;
        this.cap = this.open();
        if (!first) this.reopens++;
        this.opts.onState?.(true, `capture on ${this.iface} open${first ? '' : ' again'}`);
      } catch {
        this.watch(); // went down again in between, or renamed: keep looking
      }
    }, this.opts.pollMs ?? 20);
  }
}
