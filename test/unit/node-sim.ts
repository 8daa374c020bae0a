/**
 * A simulated cluster for the node state machine: a discrete-event clock in ms, a network whose links can
 * be cut, and resource actions that complete after a fixed delay. Messages pass through the real wire
 * codec (encode with a key, decode) so the machine sees exactly what a socket would deliver.
 */
import { NodeMachine, type Action, type MachineConfig, type MachineEvent } from '../../src/models/node/machine.js';
import { encodeMessage, decodeMessage } from '../../src/codecs/heartbeat/codec.js';
import type { HbMessage } from '../../src/codecs/heartbeat/message.js';
import type { Client } from '../../src/models/strategy/language.js';

export const KEY = { index: 1, method: 'sha1' as const, key: 'secret', line: 1 };

export interface SimNode {
  name: string;
  m: NodeMachine;
  log: (Extract<Action, { type: 'log' }> & { t: number })[];
  sent: HbMessage[];
  exited: boolean;
  /** group -> held (as executed by the simulated resource layer) */
  holding: Set<number>;
  /** what the machine handed to the announcer from peers (hadiag-clients) */
  peerClients: { t: number; node: string; clients: Client[] }[];
}

interface QEvent {
  t: number;
  seq: number;
  fn: () => void;
}

export class Sim {
  now = 1_000_000;
  private q: QEvent[] = [];
  private qseq = 0;
  readonly nodes = new Map<string, SimNode>();
  /** cut links: "a>b" means a's packets do not reach b */
  readonly cut = new Set<string>();
  latencyMs = 1;
  resourceMs = 5;
  /** (t, node, group, 'acquire'|'release') of every executed resource action */
  readonly resourceLog: { t: number; node: string; group: number; op: 'acquire' | 'release' }[] = [];
  /** 'announce' actions (a held group announced again, e.g. by the keeper at a partition heal) */
  readonly announceLog: { t: number; node: string; group: number; reason: string }[] = [];
  /** raw frames injected by tests (forgeries) reach these taps too */
  readonly wire: { t: number; from: string; msg: HbMessage }[] = [];

  constructor(readonly base: Omit<MachineConfig, 'node' | 'generation' | 'uuid'>) {}

  add(name: string, opts: Partial<MachineConfig> = {}): SimNode {
    const m = new NodeMachine(
      { ...this.base, node: name, generation: opts.generation ?? 0x100, uuid: Buffer.alloc(16, name.charCodeAt(name.length - 1)), ...opts },
      { now: this.now },
    );
    const n: SimNode = { name, m, log: [], sent: [], exited: false, holding: new Set(), peerClients: [] };
    this.nodes.set(name, n);
    this.apply(n, m.start(this.now));
    this.scheduleTick(n);
    return n;
  }

  at(t: number, fn: () => void): void {
    this.q.push({ t, seq: this.qseq++, fn });
    this.q.sort((a, b) => a.t - b.t || a.seq - b.seq);
  }

  private tickAt = new WeakMap<SimNode, number>();
  private scheduleTick(n: SimNode): void {
    if (n.exited) return;
    const t = Math.max(this.now, n.m.nextWakeMs());
    if (this.tickAt.get(n) === t) return;
    this.tickAt.set(n, t);
    this.at(t, () => {
      if (this.tickAt.get(n) !== t) return;
      this.tickAt.delete(n);
      this.feed(n, { type: 'tick' });
    });
  }

  feed(n: SimNode, ev: MachineEvent): void {
    if (n.exited) return;
    this.apply(n, n.m.handle(ev, this.now));
  }

  private apply(n: SimNode, actions: Action[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'log':
          n.log.push({ ...a, t: this.now });
          break;
        case 'send':
          n.sent.push(a.msg);
          this.broadcast(n.name, encodeMessage(a.msg, KEY));
          break;
        case 'acquire':
        case 'release': {
          const done = this.now + this.resourceMs;
          this.at(done, () => {
            if (a.type === 'acquire') n.holding.add(a.group);
            else n.holding.delete(a.group);
            this.resourceLog.push({ t: this.now, node: n.name, group: a.group, op: a.type });
            this.feed(n, { type: 'resource-done', job: a.job, group: a.group, op: a.type, ok: true, durationMs: this.resourceMs });
          });
          break;
        }
        case 'peer-clients':
          n.peerClients.push({ t: this.now, node: a.node, clients: a.clients });
          break;
        case 'announce':
          this.announceLog.push({ t: this.now, node: n.name, group: a.group, reason: a.reason });
          break;
        case 'exit':
          n.exited = true;
          break;
      }
    }
    this.scheduleTick(n);
  }

  /** Deliver a wire buffer from `from` to every other node (unless the link is cut). */
  broadcast(from: string, buf: Buffer): void {
    const d = decodeMessage(buf);
    if (!d.ok) throw new Error(`codec rejected our own message: ${d.reason}`);
    this.wire.push({ t: this.now, from, msg: d.msg });
    for (const [name, n] of this.nodes) {
      if (name === from || this.cut.has(`${from}>${name}`)) continue;
      this.at(this.now + this.latencyMs, () => this.feed(n, { type: 'message', msg: d.msg, from: { ip: '198.18.0.1', port: 694 } }));
    }
  }

  /** Inject a message as if it came from the wire (a forgery or replay) to one node. */
  inject(to: string, msg: HbMessage): void {
    const n = this.nodes.get(to)!;
    const d = decodeMessage(encodeMessage(msg, KEY));
    if (!d.ok) throw new Error(d.reason);
    this.at(this.now + this.latencyMs, () => this.feed(n, { type: 'message', msg: d.msg, from: { ip: '198.18.0.99', port: 694 } }));
  }

  run(until: number): void {
    while (this.q.length && this.q[0]!.t <= until) {
      const e = this.q.shift()!;
      this.now = e.t;
      e.fn();
    }
    this.now = until;
  }

  runFor(ms: number): void {
    this.run(this.now + ms);
  }

  partition(a: string, b: string): void {
    this.cut.add(`${a}>${b}`);
    this.cut.add(`${b}>${a}`);
  }

  heal(a: string, b: string): void {
    this.cut.delete(`${a}>${b}`);
    this.cut.delete(`${b}>${a}`);
  }

  node(name: string): SimNode {
    return this.nodes.get(name)!;
  }

  /** Who holds group g right now (simulated resource layer). */
  holders(g = 0): string[] {
    return [...this.nodes.values()].filter((n) => n.holding.has(g) && !n.exited).map((n) => n.name);
  }

  /** A node crashes (kill -9): it stops; what it held stays configured on its host until a restart cleans up. */
  crash(name: string): void {
    const n = this.node(name);
    n.exited = true;
    n.holding.clear();
  }

  /** Restart a crashed/stopped node with a higher generation. */
  restart(name: string, opts: Partial<MachineConfig> = {}): SimNode {
    const old = this.node(name);
    const gen = (old.m.cfg.generation ?? 0x100) + 1;
    this.nodes.delete(name);
    return this.add(name, { generation: gen, ...opts });
  }

  events(name: string, event: string): (Extract<Action, { type: 'log' }> & { t: number })[] {
    return this.node(name).log.filter((l) => l.event === event);
  }
}

export const baseConfig = (over: Partial<MachineConfig> = {}): Omit<MachineConfig, 'node' | 'generation' | 'uuid'> => ({
  nodes: ['server1', 'server2'],
  keepaliveMs: 1000,
  deadtimeMs: 5000,
  warntimeMs: 3000,
  initdeadMs: 10000,
  autoFailback: 'on',
  groups: [{ node: 'server1', label: 'IPaddr::198.18.0.20/24', ips: ['IPaddr::198.18.0.20/24'] }],
  rqstDelayMs: 10000,
  ...over,
});
