/**
 * The heartbeat media of ha.cf as UDP sockets: one receive socket on 0.0.0.0:udpport, one send socket per
 * bcast/mcast/ucast line. Received datagrams are decoded and authenticated with the authkeys keys before
 * they reach the machine; every message we send goes out on every medium.
 */
import dgram from 'node:dgram';
import { join } from 'node:path';
import { configError, envError } from '../../core/errors.js';
import type { Medium } from '../../models/config/hacf.js';
import type { AuthKey } from '../../models/config/authkeys.js';
import { decodeMessage, encodeMessage, verifyDecoded, verifyTrailing } from '../../codecs/heartbeat/codec.js';
import type { HbMessage } from '../../codecs/heartbeat/message.js';
import type { Ipv4Addr } from './resources.js';
import type { DaemonCounters, DaemonEmit } from './daemon-log.js';
import { nowMs } from '../../core/clock.js';

interface Link {
  socket: dgram.Socket;
  dest: string;
  port: number;
  label: string;
  /** connected to dest:port (bcast, mcast: no ICMP errors come back): each send skips the address lookup */
  connected: boolean;
}

/** how often the auth field of an accepted netstring message is checked too (ms) */
const INNER_CHECK_EVERY_MS = 5000;

export type Deliver = (msg: HbMessage, from: { ip: string; port: number }) => void;

export interface LinksSetup {
  configDir: string;
  media: Medium[];
  port: number;
  addrs: Ipv4Addr[];
  localAddrs: Set<string>;
  keys: Map<number, AuthKey>;
}

export class HeartbeatLinks {
  private readonly links: Link[] = [];
  /** the local ports of our send sockets: our own bcast/mcast comes back to the receive socket from these */
  private readonly ownPorts = new Set<number>();
  private innerCheckedMs = -Infinity;
  private rx?: dgram.Socket;

  private constructor(
    private readonly setup: LinksSetup,
    private readonly counters: DaemonCounters,
    private readonly log: DaemonEmit,
  ) {}

  /** Bind the receive socket and one send socket per medium; authenticated messages go to `deliver`. */
  static async open(setup: LinksSetup, counters: DaemonCounters, log: DaemonEmit, deliver: Deliver): Promise<HeartbeatLinks> {
    if (!setup.media.length) throw configError('no heartbeat medium', join(setup.configDir, 'ha.cf'), 'add a bcast, mcast or ucast line');
    const links = new HeartbeatLinks(setup, counters, log);
    links.rx = await bindReceiver(setup.port);
    links.rx.on('error', (err) => log.emit('error', 'socket', `receive socket: ${err.message}`));
    links.rx.on('message', (buf, rinfo) => links.onDatagram(buf, rinfo, deliver));
    for (const m of setup.media) await links.addMedium(m);
    if (!links.links.length) throw configError('no usable heartbeat medium', join(setup.configDir, 'ha.cf'), 'the only ucast lines name this host: add one naming the peer');
    return links;
  }

  labels(): string[] {
    return this.links.map((l) => l.label);
  }

  /** Send one message on every medium, signed with `key`. */
  send(msg: HbMessage, key: AuthKey): void {
    const buf = encodeMessage(msg, key);
    for (const l of this.links) {
      const done = (err: Error | null) => {
        if (err) {
          this.counters.sendErrors++;
          this.log.rateEmit('warn', 'send-failed', `${l.label}: ${err.message}`);
        }
      };
      if (l.connected) l.socket.send(buf, done);
      else l.socket.send(buf, l.port, l.dest, done);
    }
  }

  close(): void {
    for (const l of this.links) l.socket.close();
    this.rx?.close();
  }

  private async addMedium(m: Medium): Promise<void> {
    const rx = this.rx!;
    const ifAddrs = this.setup.addrs.filter((a) => a.iface === m.iface);
    if (!ifAddrs.length) throw envError(`interface ${m.iface} of ha.cf has no IPv4 address (or does not exist)`, `ha.cf:${m.line}`, `check \`ip addr show ${m.iface}\``);
    const sock = dgram.createSocket({ type: 'udp4' });
    await new Promise<void>((res) => sock.bind(0, () => res()));
    sock.on('error', (err) => this.log.emit('error', 'socket', `${m.kind} ${m.iface}: ${err.message}`));
    if (m.kind === 'bcast') {
      const brd = ifAddrs.find((a) => a.broadcast)?.broadcast;
      if (!brd) {
        sock.close();
        throw envError(`interface ${m.iface} has no broadcast address`, `ha.cf:${m.line} bcast ${m.iface}`, `give it one (ip addr add ADDR/PREFIX brd + dev ${m.iface}) or use ucast/mcast — the real Heartbeat would send to 0.0.0.0 and split the brain`);
      }
      sock.setBroadcast(true);
      this.links.push({ socket: sock, dest: brd, port: m.port, label: `bcast ${m.iface} -> ${brd}:${m.port}`, connected: await connect(sock, brd, m.port) });
    } else if (m.kind === 'mcast') {
      const local = ifAddrs[0]!.local;
      sock.setMulticastInterface(local);
      sock.setMulticastTTL(m.ttl);
      sock.setMulticastLoopback(m.loop);
      try {
        rx.addMembership(m.group, local);
      } catch (err) {
        throw envError(`cannot join multicast group ${m.group} on ${m.iface}`, `ha.cf:${m.line}: ${(err as Error).message}`, 'check the interface and group');
      }
      this.links.push({ socket: sock, dest: m.group, port: m.port, label: `mcast ${m.iface} -> ${m.group}:${m.port}`, connected: await connect(sock, m.group, m.port) });
    } else if (this.setup.localAddrs.has(m.peer)) {
      sock.close(); // a node ignores the ucast line naming itself
      return;
    } else {
      // not connected: a connected socket would report the peer's ICMP port-unreachable on our next send
      this.links.push({ socket: sock, dest: m.peer, port: m.port, label: `ucast ${m.iface} -> ${m.peer}:${m.port}`, connected: false });
    }
    this.ownPorts.add(sock.address().port);
  }

  private onDatagram(buf: Buffer, rinfo: dgram.RemoteInfo, deliver: Deliver): void {
    try {
      this.counters.datagrams++;
      if (this.ownPorts.has(rinfo.port) && this.setup.localAddrs.has(rinfo.address)) return;
      const d = decodeMessage(buf);
      if (!d.ok) {
        this.counters.malformed++;
        this.log.rateEmit('warn', 'malformed', `malformed datagram from ${rinfo.address}:${rinfo.port} (${d.code}: ${d.reason})`);
        return;
      }
      // a netstring message is accepted on its trailing token (as Heartbeat 3.0.6 does); its auth field, a second
      // MAC over the same fields, is looked at once every few seconds (a diagnostic: a peer that gets it wrong
      // gets it wrong in every message) — checking both in every message was a tenth of an idle node's CPU
      const trailingOk = d.encoding === 'netstring' && verifyTrailing(buf, d, this.setup.keys) === 'ok';
      const now = trailingOk ? nowMs() : 0;
      if (!trailingOk || now >= this.innerCheckedMs + INNER_CHECK_EVERY_MS || now < this.innerCheckedMs) {
        if (trailingOk) this.innerCheckedMs = now;
        const v = verifyDecoded(buf, d, this.setup.keys);
        if (!v.accepted) {
          this.counters.authFailures++;
          this.log.rateEmit('warn', 'auth-failed', `authentication failed for a message from ${rinfo.address}:${rinfo.port} (trailing token ${v.trailing}, auth field ${v.inner})`);
          return;
        }
        if (d.encoding === 'netstring' && v.inner !== 'ok') {
          this.counters.innerAuthMismatch++;
          this.log.rateEmit('debug', 'inner-auth', `message from ${rinfo.address}: trailing token ok, auth field ${v.inner}`);
        }
      }
      deliver(d.msg, { ip: rinfo.address, port: rinfo.port });
    } catch (err) {
      this.counters.malformed++;
      this.log.rateEmit('error', 'packet-error', `error handling a datagram from ${rinfo.address}: ${(err as Error).message}`);
    }
  }

}

/** Connect a send socket to its one destination; false (send with the address each time) if the kernel refuses. */
async function connect(sock: dgram.Socket, address: string, port: number): Promise<boolean> {
  return new Promise((res) => sock.connect(port, address, (err?: Error) => res(!err)));
}

async function bindReceiver(port: number): Promise<dgram.Socket> {
  const rx = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  await new Promise<void>((res, rej) => {
    rx.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') rej(envError(`UDP port ${port} is in use`, `0.0.0.0:${port}`, 'stop the other heartbeat/hadiag node on this host (ss -ulpn shows it)'));
      else if (err.code === 'EACCES') rej(envError(`cannot bind UDP port ${port}`, `0.0.0.0:${port}`, 'run as root'));
      else rej(err);
    });
    rx.bind(port, '0.0.0.0', () => res());
  });
  rx.removeAllListeners('error');
  return rx;
}
