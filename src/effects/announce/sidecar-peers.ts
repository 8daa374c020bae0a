/**
 * The announce sidecars' client-book exchange: one UDP socket on the peer port; every round this sidecar's
 * own book (what it learned, never what a peer told it) goes to each `--peer` as signed parts
 * (models/announce/book-message.ts), and every part received is checked with the authkeys keys. Per source
 * address it keeps when it was last heard, whether its last datagram passed auth, and the counts.
 */
import dgram from 'node:dgram';
import { envError } from '../../core/errors.js';
import { nowMs } from '../../core/clock.js';
import { decodeBook, encodeBook } from '../../models/announce/book-message.js';
import { BookReplayGuard } from '../../models/announce/book-replay.js';
import type { AuthKeyLike } from '../../codecs/heartbeat/auth.js';
import type { Client } from '../../models/strategy/language.js';

/**
 * The peer port: 694 is Heartbeat's (a sidecar next to run-node or Heartbeat must not take it); 6940 is
 * used by none of the HA stacks hadiag works with (Corosync 5405–5412, Pacemaker remote 3121, keepalived
 * and ucarp speak IP protocol 112, no port) and is easy to tie to 694.
 */
export const DEFAULT_PEER_PORT = 6940;
/** how often the whole book is sent again when nothing changed */
const RESEND_MS = 5000;

export interface PeerState {
  ip: string;
  /** configured with --peer (false: a sender we were not told about) */
  configured: boolean;
  lastHeardMs?: number;
  /** the last datagram from it: accepted, or why not */
  auth: 'never-heard' | 'ok' | 'failed' | 'malformed' | 'replay';
  accepted: number;
  rejected: number;
  lastError?: string;
  /** its name, from its messages */
  name?: string;
  clientsReceived: number;
}

export interface PeerExchangeOptions {
  node: string;
  port: number;
  peers: string[];
  /** the key sent with (authkeys `auth N`) and every key accepted */
  sendKey: AuthKeyLike;
  keys: ReadonlyMap<number, AuthKeyLike>;
  /** this sidecar's own clients now */
  ownClients: () => Client[];
  /** clients a peer sent (only authenticated parts reach this) */
  onClients: (from: PeerState, clients: Client[]) => void;
  onReject: (from: PeerState, detail: string) => void;
}

export class PeerExchange {
  private sock?: dgram.Socket;
  private timer?: NodeJS.Timeout;
  /** the start time: a later start's rounds supersede this one's at the peers (book-replay.ts) */
  private readonly boot = String(Date.now());
  private readonly replay = new BookReplayGuard();
  private seq = 0;
  private lastSent = '';
  private lastSentMs = 0;
  readonly peers = new Map<string, PeerState>();
  sendErrors = 0;

  constructor(private readonly o: PeerExchangeOptions) {
    for (const ip of o.peers) this.peers.set(ip, newPeer(ip, true));
  }

  async open(): Promise<void> {
    const sock = dgram.createSocket({ type: 'udp4' });
    sock.on('message', (buf, rinfo) => this.receive(buf, rinfo.address));
    sock.on('error', () => this.sendErrors++);
    await new Promise<void>((res, rej) => {
      sock.once('error', (err: NodeJS.ErrnoException) => rej(envError(`cannot listen on UDP port ${this.o.port}`, err.code ?? err.message, 'another sidecar on this host? give another --port')));
      sock.bind(this.o.port, () => res());
    });
    this.sock = sock;
    this.timer = setInterval(() => this.round(false), 1000);
    this.round(true);
  }

  /** Send the book when it changed, or every RESEND_MS anyway (or now with `force`). */
  round(force: boolean): void {
    const clients = this.o.ownClients();
    const text = clients.map((c) => `${c.ip}@${c.mac ?? ''}`).join(' ');
    if (!force && text === this.lastSent && nowMs() - this.lastSentMs < RESEND_MS) return;
    this.lastSent = text;
    this.lastSentMs = nowMs();
    const parts = encodeBook({ src: this.o.node, boot: this.boot, seq: ++this.seq }, clients, this.o.sendKey);
    for (const ip of this.o.peers) for (const p of parts) this.sock?.send(p, this.o.port, ip, (err) => err && this.sendErrors++);
  }

  private receive(buf: Buffer, from: string): void {
    let p = this.peers.get(from);
    if (!p) this.peers.set(from, (p = newPeer(from, false)));
    p.lastHeardMs = nowMs();
    const v = decodeBook(buf, this.o.keys);
    if (!v.ok) {
      p.rejected++;
      p.auth = v.reason === 'auth' ? 'failed' : 'malformed';
      p.lastError = v.detail;
      this.o.onReject(p, v.detail);
      return;
    }
    const fresh = this.replay.admit(v.part, nowMs());
    if (!fresh.fresh) {
      p.rejected++;
      p.auth = 'replay';
      p.lastError = fresh.detail;
      this.o.onReject(p, fresh.detail);
      return;
    }
    p.accepted++;
    p.auth = 'ok';
    p.name = v.part.src;
    p.clientsReceived += v.part.clients.length;
    if (v.part.clients.length) this.o.onClients(p, v.part.clients);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.sock?.close();
    this.sock = undefined;
  }
}

function newPeer(ip: string, configured: boolean): PeerState {
  return { ip, configured, auth: 'never-heard', accepted: 0, rejected: 0, clientsReceived: 0 };
}
