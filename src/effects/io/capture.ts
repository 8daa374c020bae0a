/**
 * The one module that owns `cap` (libpcap): open a live capture on an interface with a BPF filter, deliver
 * each frame (copied) with a timestamp, send raw frames, close exactly once.
 *
 * cap's hazards (docs/facts/stack-facts.md) and how this module avoids them:
 *  - a failed open() aborts the process when the Cap object is garbage-collected → the interface and the
 *    filter are validated before opening (`tcpdump -d` compiles the filter for that interface), and any Cap
 *    whose open() still throws is kept referenced for the life of the process so it is never collected;
 *  - reusing a Cap after a failed open() or after close() → one Cap per open(), never reopened;
 *  - cap reuses one buffer for every packet → frames are copied before the callback sees them;
 *  - cap passes no packet timestamps → `tsMs` is stamped first thing in the packet callback
 *    (performance.timeOrigin + performance.now(), µs resolution). Measured: a median 0.09 ms (p99 0.26 ms)
 *    after the kernel's timestamp on an idle host, p99 ~4 ms on a busy one;
 *  - the interface going down used to abort the process (binding.cc `assert(status == 0)`): hadiag's
 *    install patches cap (scripts/patch-cap.mjs) to emit `pollerror` instead → the handle is closed and
 *    `opts.onLost` is told; steady-capture.ts reopens a new one once the interface is up again.
 *
 * It works in the current network namespace: a lab host uses it from a process started with `ip netns exec`.
 */
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { envError, usageError } from '../../core/errors.js';
import { onCleanup } from './cleanup.js';
import { nowMs } from '../../core/clock.js';

interface CapInstance {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): void;
  send(buffer: Buffer, nBytes?: number): void;
  on(event: 'packet', fn: (nbytes: number, truncated: boolean) => void): void;
  on(event: 'pollerror', fn: (status: number) => void): void;
  removeAllListeners(event?: string): void;
}
interface CapModule {
  Cap: { new (): CapInstance; deviceList(): { name: string; addresses: unknown[]; flags?: string }[] };
}

let capModule: CapModule | undefined;
function loadCap(): CapModule {
  if (capModule) return capModule;
  try {
    // cap is CommonJS without types; load it lazily so pure users of the packet layer never need the addon.
    capModule = createRequire(import.meta.url)('cap') as CapModule;
  } catch (err) {
    throw envError('the cap module (libpcap binding) is not usable', (err as Error).message.split('\n')[0]!, 'run `npm run setup` (needs libpcap-dev, g++, make, python3)');
  }
  return capModule;
}

/** Caps whose open() threw: referenced forever, because collecting them aborts the process. */
const quarantine: CapInstance[] = [];

export interface CaptureStats {
  /** frames delivered to the callback */
  received: number;
  /** bytes delivered */
  bytes: number;
  /** frames longer than the capture buffer (delivered cut) */
  truncated: number;
  /** frames sent with send() */
  sent: number;
  /** exceptions thrown by the onFrame callback (caught; reported through opts.onError) */
  callbackErrors: number;
}

export interface Capture {
  readonly iface: string;
  readonly filter: string;
  /** pcap link type number (1 Ethernet, 113 Linux cooked on `any`) */
  readonly linktype: number;
  readonly closed: boolean;
  /** Send one raw frame (the whole Ethernet frame) on the interface. */
  send(frame: Buffer): void;
  /** Stop capturing. Safe to call more than once; the handle is never reopened. */
  close(): void;
  stats(): CaptureStats;
}

export interface CaptureOptions {
  /**
   * libpcap's kernel ring in bytes (default 32 MiB: decoding in JavaScript costs ~20× tcpdump's CPU per
   * frame, and the ring must absorb its pauses — measured at 20 kpps, 8 MiB dropped 0.2–0.5 %, 32 MiB none).
   * Pages become resident only as traffic fills them; long-running low-traffic handles pass less.
   */
  bufferSize?: number;
  /** called with exceptions thrown by onFrame (default: print one line to stderr, once) */
  onError?: (err: unknown) => void;
  /** the handle died because the interface went down (it is closed; open a new one when it is up) */
  onLost?: (detail: string) => void;
  /** check the interface and filter first (default true; a reopen of a checked filter may skip it) */
  validate?: boolean;
}

const LINKTYPES: Record<string, number> = { ETHERNET: 1, LINKTYPE_LINUX_SLL: 113, NULL: 0, RAW: 101, IEEE802_11_RADIO: 127 };

function linktypeNumber(name: string): number {
  if (name in LINKTYPES) return LINKTYPES[name]!;
  const m = /Unknown linktype (\d+)/.exec(name);
  return m ? Number(m[1]) : -1;
}

const DEFAULT_RING_BYTES = 32 * 1024 * 1024;


/** Interface names the capture can open in this namespace (libpcap's own list, plus `any`). */
export function listInterfaces(): string[] {
  return loadCap().Cap.deviceList().map((d) => d.name);
}

/**
 * Check everything that would make open() fail, with one-line errors: a valid, existing interface that is up,
 * permission to capture, and a filter that compiles for that interface (`tcpdump -d`).
 */
export function validateCapture(iface: string, filter: string): void {
  if (!/^[^\s/:]{1,15}$/.test(iface) && iface !== 'any') {
    throw usageError(`"${iface}" is not an interface name`, 'IFACE', 'give a name from `ip link` (at most 15 characters)');
  }
  const names = listInterfaces();
  if (!names.includes(iface)) {
    const shown = names.filter((n) => !/^(any|nflog|nfqueue|dbus|bluetooth)/.test(n)).slice(0, 8).join(', ');
    throw envError(`no interface ${iface}`, 'this network namespace', `choose one of: ${shown || '(none)'}`);
  }
  if (iface !== 'any') {
    const flags = readSys(`/sys/class/net/${iface}/flags`);
    if (flags !== undefined && (parseInt(flags, 16) & 1) === 0) {
      throw envError(`interface ${iface} is down`, iface, `bring it up first: ip link set ${iface} up`);
    }
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw envError(`capturing on ${iface} needs root`, `uid ${process.getuid()}`, 'run it with sudo or as root (raw packet sockets)');
  }
  const r = spawnSync('tcpdump', ['-i', iface, '-d', ...(filter.trim() ? [filter] : [])], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw envError('tcpdump not found (hadiag uses it to check capture filters before opening)', 'PATH', 'run `npm run setup` or apt-get install tcpdump');
    throw envError(`could not check the capture filter`, r.error.message, 'is tcpdump installed?');
  }
  if (r.status !== 0) {
    const msg = (r.stderr || '').trim().split('\n').filter((l) => !/^Warning/.test(l)).pop() ?? `exit ${r.status}`;
    const text = msg.replace(/^tcpdump: /, '');
    if (/syntax error|illegal|unknown|not supported|expression/i.test(text)) {
      throw usageError(`bad capture filter "${filter}"`, text, 'fix the BPF expression (see man pcap-filter)');
    }
    if (/permission|Operation not permitted/i.test(text)) {
      throw envError(`no permission to capture on ${iface}`, text, 'run it as root');
    }
    if (/No such device|doesn't exist/i.test(text)) {
      throw envError(`no interface ${iface}`, text, 'give a name from `ip link`');
    }
    throw envError(`cannot capture on ${iface}`, text, 'check the interface with `ip link` and the filter');
  }
}

/** IFF_UP of an interface in this namespace (false when it does not exist). */
export function interfaceUp(iface: string): boolean {
  const flags = readSys(`/sys/class/net/${iface}/flags`);
  return flags !== undefined && (parseInt(flags, 16) & 1) === 1;
}

function readSys(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Open a live capture. `onFrame` gets a copy of every frame (safe to keep) and its receive time in epoch ms.
 * Throws HadiagError for a missing or down interface, a bad filter or no permission; never aborts the process.
 */
export function openCapture(iface: string, filter: string, onFrame: (frame: Buffer, tsMs: number) => void, opts: CaptureOptions = {}): Capture {
  if (opts.validate !== false) validateCapture(iface, filter);
  else if (!interfaceUp(iface)) throw envError(`interface ${iface} is down`, iface, `bring it up first: ip link set ${iface} up`);
  const { Cap } = loadCap();
  const cap = new Cap();
  const buffer = Buffer.alloc(65536);
  let linkName: string;
  try {
    linkName = cap.open(iface, filter, opts.bufferSize ?? DEFAULT_RING_BYTES, buffer);
  } catch (err) {
    quarantine.push(cap);
    throw envError(`cannot capture on ${iface}`, String((err as Error).message ?? err), 'check the interface (`ip link`), the filter and that you are root');
  }
  const linktype = linktypeNumber(linkName);
  const stats: CaptureStats = { received: 0, bytes: 0, truncated: 0, sent: 0, callbackErrors: 0 };
  let closed = false;
  let warned = false;
  const onError =
    opts.onError ??
    ((err: unknown) => {
      if (warned) return;
      warned = true;
      process.stderr.write(`hadiag: error while handling a captured frame on ${iface}: ${(err as Error)?.message ?? err} (further ones counted, not shown)\n`);
    });

  cap.on('packet', (nbytes: number, truncated: boolean) => {
    const tsMs = nowMs();
    if (closed) return;
    const frame = Buffer.allocUnsafe(nbytes);
    buffer.copy(frame, 0, 0, nbytes);
    stats.received++;
    stats.bytes += nbytes;
    if (truncated) stats.truncated++;
    try {
      onFrame(frame, tsMs);
    } catch (err) {
      stats.callbackErrors++;
      onError(err);
    }
  });

  cap.on('pollerror', (status: number) => {
    if (closed) return;
    const detail = `capture on ${iface} lost: the interface went down (libuv status ${status})`;
    closed = true;
    unregister();
    setImmediate(() => {
      cap.close();
      cap.removeAllListeners('packet');
    });
    if (opts.onLost) opts.onLost(detail);
    else process.stderr.write(`hadiag: warning: ${detail}; nothing more is captured — bring it up (ip link set ${iface} up) and run again\n`);
  });

  const unregister = onCleanup(`capture on ${iface}`, () => handle.close());
  const handle: Capture = {
    iface,
    filter,
    linktype,
    get closed() {
      return closed;
    },
    send(frame: Buffer): void {
      if (closed) throw envError(`capture on ${iface} is closed`, 'send()', 'open a new capture');
      try {
        cap.send(frame, frame.length);
      } catch (err) {
        throw envError(`cannot send on ${iface}`, String((err as Error).message ?? err), `is ${iface} up? (ip link set ${iface} up)`);
      }
      stats.sent++;
    },
    close(): void {
      if (closed) return;
      closed = true;
      unregister();
      cap.close();
      cap.removeAllListeners('packet');
    },
    stats: () => ({ ...stats }),
  };
  return handle;
}
