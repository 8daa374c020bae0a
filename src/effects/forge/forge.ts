/**
 * Forged and junk Heartbeat traffic for hardening tests and benchmarks (pure: builds datagrams, sends
 * nothing). Each kind is something a node must reject (or, for `genuine`, accept) without failing over:
 *
 * - wrong-key:      a well-formed status from a real member, signed with another key
 * - unknown-node:   right key, but a node name that is not in ha.cf
 * - higher-gen:     right key, a real member, a generation (hg) above the member's current one — the
 *                   packet that wedged the real 3.0.6 daemon
 * - seq-jump:       right key, real member and generation, a seq far ahead of the member's
 * - replay:         a captured genuine datagram sent again, byte for byte (see `replayed`)
 * - junk:           random bytes, half of them starting like a Heartbeat message
 */
import { randomBytes } from 'node:crypto';
import { buildMessage, type HbMessage } from '../../codecs/heartbeat/message.js';
import { encodeMessage, type Encoding } from '../../codecs/heartbeat/codec.js';
import type { AuthKeyLike } from '../../codecs/heartbeat/auth.js';

export const FORGE_KINDS = ['wrong-key', 'unknown-node', 'higher-gen', 'seq-jump', 'junk', 'genuine'] as const;
export type ForgeKind = (typeof FORGE_KINDS)[number];

export interface ForgeContext {
  /** the cluster's real key (authkeys) */
  key: AuthKeyLike;
  /** the member being impersonated (a node name from ha.cf) */
  member: string;
  /** the member's current generation (hg) as the victim knows it */
  generation: number;
  /** a seq near the member's current one (seq-jump adds a large offset to it) */
  seq: number;
  /** the `st` the forged status claims (default: active) */
  st?: string;
  encoding?: Encoding;
  /** epoch ms for the `ts` field (default now) */
  nowMs?: number;
}

/** A status message as a 3.0.6 node sends it (field order included). */
export function statusMessage(o: { src: string; seq: number; generation: number; st?: string; deadtimeMs?: number; nowMs?: number; uuid?: Buffer }): HbMessage {
  return buildMessage([
    ['t', 'status'],
    ['st', o.st ?? 'active'],
    ['dt', (o.deadtimeMs ?? 5000).toString(16)],
    ['protocol', '1'],
    ['src', o.src],
    ['srcuuid', o.uuid ?? Buffer.alloc(16, 0x5a)],
    ['seq', o.seq.toString(16)],
    ['hg', o.generation.toString(16)],
    ['ts', Math.floor((o.nowMs ?? Date.now()) / 1000).toString(16)],
    ['ld', '0.00 0.00 0.00 1/100 1'],
    ['ttl', '3'],
  ]);
}

/** The jump `seq-jump` makes: well beyond any plausible gap (the node's limit is 1000). */
export const SEQ_JUMP = 100_000;

/** Deterministic-per-call junk: random bytes; every other datagram starts like a netstring or classic message. */
export function junkDatagram(i: number, maxLen = 400): Buffer {
  const len = 1 + (randomBytes(2).readUInt16BE(0) % maxLen);
  const body = randomBytes(len);
  if (i % 4 === 1) return Buffer.concat([Buffer.from('###\n'), body]);
  if (i % 4 === 3) return Buffer.concat([Buffer.from('>>>\nt=status\n'), body]);
  return body;
}

/** One forged datagram of `kind` (i numbers successive datagrams, e.g. to vary seq). */
export function forgeDatagram(kind: ForgeKind, ctx: ForgeContext, i = 0): Buffer {
  const enc = ctx.encoding ?? 'netstring';
  const base = { src: ctx.member, seq: ctx.seq + i, generation: ctx.generation, st: ctx.st ?? 'active', nowMs: ctx.nowMs };
  switch (kind) {
    case 'genuine':
      return encodeMessage(statusMessage(base), ctx.key, enc);
    case 'wrong-key': {
      const bad: AuthKeyLike = { ...ctx.key, key: ctx.key.method === 'crc' ? ctx.key.key : `${ctx.key.key}-not` };
      // crc has no key: make the digest wrong by signing with another method
      if (ctx.key.method === 'crc') bad.method = 'sha1';
      return encodeMessage(statusMessage(base), bad, enc);
    }
    case 'unknown-node':
      return encodeMessage(statusMessage({ ...base, src: `intruder${i % 10}` }), ctx.key, enc);
    case 'higher-gen':
      return encodeMessage(statusMessage({ ...base, generation: ctx.generation + 1 + (i % 3) }), ctx.key, enc);
    case 'seq-jump':
      return encodeMessage(statusMessage({ ...base, seq: ctx.seq + SEQ_JUMP + i }), ctx.key, enc);
    case 'junk':
      return junkDatagram(i);
  }
}

export function parseForgeKind(text: string): ForgeKind {
  if ((FORGE_KINDS as readonly string[]).includes(text)) return text as ForgeKind;
  throw new Error(`unknown forge kind "${text}" (use one of ${FORGE_KINDS.join(', ')})`);
}
