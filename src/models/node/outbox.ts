/**
 * What this node puts on the wire: sequenced messages in Heartbeat's field order (our seq, generation and
 * timestamp), the recent ones kept for retransmission, and the unsequenced control messages (NS_*).
 */
import { buildMessage, type HbMessage } from '../../codecs/heartbeat/message.js';
import type { Action, Fields } from './types.js';

/** sequenced messages kept for NS_rexmit answers */
const HISTORY = 200;
/** how long one read of the load is used for the `ld` field (the kernel recomputes the averages every 5 s) */
const LOAD_REUSE_MS = 5000;

export interface OutboxIdentity {
  node: string;
  uuid: Buffer;
  generation: number;
  /** contents of /proc/loadavg for the `ld` field */
  load?: () => string;
}

export const tsHex = (now: number): string => Math.floor(now / 1000).toString(16);

export class Outbox {
  private seqNo = 0;
  private readonly history: { seq: number; msg: HbMessage }[] = [];
  private loadText = '';
  private loadReadMs = -Infinity;

  constructor(private readonly id: OutboxIdentity) {}

  /** the last seq sent */
  get seq(): number {
    return this.seqNo;
  }

  /** A sequenced message: the given fields, then src, srcuuid, seq, hg, ts, ld, ttl (Heartbeat's order). */
  build(now: number, pairs: Fields): HbMessage {
    this.seqNo++;
    const msg = buildMessage([
      ...pairs,
      ['src', this.id.node],
      ['srcuuid', this.id.uuid],
      ['seq', this.seqNo.toString(16)],
      ['hg', this.id.generation.toString(16)],
      ['ts', tsHex(now)],
      ['ld', this.load(now)],
      ['ttl', '3'],
    ]);
    this.history.push({ seq: this.seqNo, msg });
    if (this.history.length > HISTORY) this.history.shift();
    return msg;
  }

  /** The `ld` value: read at most once every 5 s (a read of /proc/loadavg per message was 5 % of an idle node's CPU at keepalive 100 ms). */
  private load(now: number): string {
    if (!this.id.load) return '0.00 0.00 0.00 1/100 1';
    if (!(now >= this.loadReadMs && now < this.loadReadMs + LOAD_REUSE_MS)) {
      this.loadText = this.id.load();
      this.loadReadMs = now;
    }
    return this.loadText;
  }

  send(now: number, pairs: Fields): Action {
    return { type: 'send', msg: this.build(now, pairs) };
  }

  /** Control messages (NS_*) carry no seq. */
  control(now: number, pairs: Fields): Action {
    return {
      type: 'send',
      msg: buildMessage([...pairs, ['src', this.id.node], ['srcuuid', this.id.uuid], ['hg', this.id.generation.toString(16)], ['ts', tsHex(now)], ['ttl', '3']]),
    };
  }

  /** A message we sent with this seq, if it is still kept. */
  sent(seq: number): HbMessage | undefined {
    return this.history.find((x) => x.seq === seq)?.msg;
  }
}
