/**
 * A capture handle that outlives its interface going down: when the link drops, libpcap's handle dies
 * (capture.ts `onLost`); this one then watches the interface's IFF_UP flag and opens a fresh handle as
 * soon as it is up again (cap objects are never reopened). A node keeps one per VIP interface for the
 * whole run, so an announcement after the link comes back leaves within milliseconds.
 */
import { openCapture, interfaceUp, type Capture } from './capture.js';
import { envError } from '../../core/errors.js';
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

  private retire(): void {
    this.cap?.close();
    this.cap = undefined;
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
