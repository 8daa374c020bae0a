import { FT_BINARY, FT_STRING, type HbMessage } from './message.js';

/** The fields of a Heartbeat message a human (or the node) looks at first, parsed. */
export interface MessageSummary {
  /** `t`: status, NS_ackmsg, NS_rexmit, resource, shutdone, … */
  type?: string;
  /** `src`: the sending node's name. */
  src?: string;
  /** `dest`: the addressee, when the message is for one node. */
  dest?: string;
  /** `seq` (hex on the wire). Absent on NS_ackmsg. */
  seq?: number;
  /** `hg`: the sender's generation (hex on the wire). */
  hg?: number;
  /** `ts`: the sender's time() in seconds (hex on the wire). */
  ts?: number;
  /** `st` of a status message: init, up, active, dead. */
  status?: string;
  /** `dt`: the deadtime the sender announces, in ms (hex on the wire). */
  deadtimeMs?: number;
  /** `ackseq` of NS_ackmsg (hex). */
  ackseq?: number;
  /** NS_rexmit: the requested range (decimal on the wire). */
  firstseq?: number;
  lastseq?: number;
  /** `srcuuid` as a canonical UUID string. */
  srcUuid?: string;
  /** resource messages: rsc_hold, info; ip-request-resp: ipaddr, weown; stonith: node, result. */
  rscHold?: string;
  info?: string;
  ipaddr?: string;
  weown?: string;
  node?: string;
  result?: string;
  /** ipfail's num_ping_nodes: how many ping nodes the sender sees (decimal on the wire). */
  numPing?: number;
  /** `from_id`: the API client that sent it (ipfail …), for messages sent through Heartbeat's client API. */
  fromId?: string;
}

const HEX = /^[0-9a-fA-F]{1,13}$/;
const DEC = /^\d{1,15}$/;

function str(msg: HbMessage, name: string): string | undefined {
  const f = msg.fields.find((x) => x.name === name);
  return f && f.type === FT_STRING ? f.value : undefined;
}

function hex(v: string | undefined): number | undefined {
  return v !== undefined && HEX.test(v) ? Number.parseInt(v, 16) : undefined;
}

function dec(v: string | undefined): number | undefined {
  return v !== undefined && DEC.test(v) ? Number(v) : undefined;
}

export function uuidString(b: Buffer): string {
  const h = b.toString('hex');
  return b.length === 16 ? `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` : h;
}

/** Parse the well-known fields of a decoded message; anything missing or malformed is left out. */
export function messageSummary(msg: HbMessage): MessageSummary {
  const s: MessageSummary = {};
  const set = <K extends keyof MessageSummary>(k: K, v: MessageSummary[K] | undefined) => {
    if (v !== undefined) s[k] = v;
  };
  set('type', str(msg, 't'));
  set('src', str(msg, 'src'));
  set('dest', str(msg, 'dest'));
  set('seq', hex(str(msg, 'seq')));
  set('hg', hex(str(msg, 'hg')));
  set('ts', hex(str(msg, 'ts')));
  set('status', str(msg, 'st'));
  set('deadtimeMs', hex(str(msg, 'dt')));
  set('ackseq', hex(str(msg, 'ackseq')));
  set('firstseq', dec(str(msg, 'firstseq')));
  set('lastseq', dec(str(msg, 'lastseq')));
  const uuid = msg.fields.find((x) => x.name === 'srcuuid');
  if (uuid && uuid.type === FT_BINARY) s.srcUuid = uuidString(uuid.value);
  set('rscHold', str(msg, 'rsc_hold'));
  set('info', str(msg, 'info'));
  set('ipaddr', str(msg, 'ipaddr'));
  set('weown', str(msg, 'weown'));
  set('node', str(msg, 'node'));
  set('result', str(msg, 'result'));
  set('numPing', dec(str(msg, 'num_ping')));
  set('fromId', str(msg, 'from_id'));
  return s;
}
