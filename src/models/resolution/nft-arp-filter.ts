/**
 * Evaluate the ARP-family nftables rules (`nft -j list ruleset arp`; arptables-nft writes the same tables)
 * against one ARP frame: would the input hook drop it? Pure. Expressions it does not understand make the
 * verdict 'maybe' (never a silent accept), naming the rule.
 */
import { ipv4ToBytes } from '../../codecs/addr.js';
import type { ArpPacket } from '../../codecs/arp.js';

export interface NftChain {
  table: string;
  name: string;
  hook?: string;
  prio?: number;
  policy?: string;
}

export interface NftRule {
  table: string;
  chain: string;
  handle?: number;
  expr: unknown[];
}

export interface ArpRuleset {
  chains: NftChain[];
  rules: NftRule[];
}

export interface FilterVerdict {
  verdict: 'accept' | 'drop' | 'maybe';
  /** the deciding rule, e.g. "arp filter input #3: arp saddr ip 198.18.0.20 arp daddr ip 198.18.0.20 drop" */
  rule?: string;
}

/** Pick the arp-family chains and rules out of `nft -j list ruleset` output. */
export function parseNftJson(doc: unknown): ArpRuleset {
  const out: ArpRuleset = { chains: [], rules: [] };
  const items = (doc as { nftables?: unknown[] })?.nftables;
  if (!Array.isArray(items)) return out;
  for (const it of items as Record<string, Record<string, unknown>>[]) {
    if (it.chain && it.chain.family === 'arp') {
      const c = it.chain;
      out.chains.push({ table: String(c.table), name: String(c.name), hook: c.hook as string | undefined, prio: c.prio as number | undefined, policy: c.policy as string | undefined });
    } else if (it.rule && it.rule.family === 'arp') {
      const r = it.rule;
      out.rules.push({ table: String(r.table), chain: String(r.chain), handle: r.handle as number | undefined, expr: Array.isArray(r.expr) ? r.expr : [] });
    }
  }
  return out;
}

/** Rules of the input hook that can drop ARP, as text for the audit. */
export function describeRuleset(rs: ArpRuleset): string[] {
  const lines: string[] = [];
  for (const c of rs.chains) {
    if (c.hook && c.hook !== 'input') continue;
    const rules = rs.rules.filter((r) => r.table === c.table && r.chain === c.name);
    if (c.hook) lines.push(`arp ${c.table} ${c.name} (hook ${c.hook}, policy ${c.policy ?? 'accept'}): ${rules.length} rule(s)`);
    for (const r of rules) lines.push(`  ${ruleText(r)}`);
  }
  return lines;
}

type Tri = true | false | 'unknown';

interface Ctx {
  arp: ArpPacket;
  ethSrc: string;
  ethDst: string;
  iifname: string;
}

/** The verdict of the input hook for this frame arriving on `iifname`. */
export function evaluateArpFilter(rs: ArpRuleset, arp: ArpPacket, eth: { src: string; dst: string }, iifname: string): FilterVerdict {
  const ctx: Ctx = { arp, ethSrc: eth.src, ethDst: eth.dst, iifname };
  const base = rs.chains.filter((c) => c.hook === 'input').sort((a, b) => (a.prio ?? 0) - (b.prio ?? 0));
  let maybe: string | undefined;
  for (const c of base) {
    const r = runChain(rs, c, ctx, 0);
    if (r.verdict === 'drop') return { verdict: 'drop', rule: r.rule };
    if (r.verdict === 'maybe') maybe ??= r.rule;
    if (r.verdict === 'none') {
      if (c.policy === 'drop') return { verdict: 'drop', rule: `arp ${c.table} ${c.name}: policy drop` };
    }
  }
  return maybe ? { verdict: 'maybe', rule: maybe } : { verdict: 'accept' };
}

type ChainResult = { verdict: 'accept' | 'drop' | 'maybe' | 'none'; rule?: string };

function runChain(rs: ArpRuleset, c: NftChain, ctx: Ctx, depth: number): ChainResult {
  if (depth > 16) return { verdict: 'maybe', rule: `arp ${c.table} ${c.name}: jumps nested too deep` };
  for (const r of rs.rules.filter((x) => x.table === c.table && x.chain === c.name)) {
    let matched: Tri = true;
    for (const e of r.expr as Record<string, unknown>[]) {
      const key = Object.keys(e ?? {})[0];
      if (key === 'match') {
        const m = matchExpr(e.match as MatchExpr, ctx);
        if (m === false) {
          matched = false;
          break;
        }
        if (m === 'unknown') matched = 'unknown';
        continue;
      }
      if (key === 'counter' || key === 'log' || key === 'comment') continue;
      if (key === 'accept' || key === 'drop') {
        if (matched === 'unknown') return { verdict: 'maybe', rule: ruleText(r) };
        return { verdict: key, rule: ruleText(r) };
      }
      if (key === 'jump' || key === 'goto') {
        const target = (e[key] as { target?: string })?.target;
        const chain = rs.chains.find((x) => x.table === c.table && x.name === target);
        if (!chain || matched === 'unknown') return { verdict: 'maybe', rule: ruleText(r) };
        const sub = runChain(rs, chain, ctx, depth + 1);
        if (sub.verdict !== 'none') return sub;
        if (key === 'goto') return { verdict: 'none' };
        break;
      }
      if (key === 'return') return { verdict: matched === 'unknown' ? 'maybe' : 'none', rule: ruleText(r) };
      // limit, quota, numgen-driven and anything else: the outcome depends on state we cannot see
      if (key === 'limit' || key === 'quota') {
        matched = 'unknown';
        continue;
      }
      matched = 'unknown';
    }
    if (matched === false) continue;
  }
  return { verdict: 'none' };
}

interface MatchExpr {
  op: string;
  left: Record<string, unknown>;
  right: unknown;
}

function fieldValue(left: Record<string, unknown>, ctx: Ctx): { kind: 'ip' | 'mac' | 'num' | 'str'; value: string | number } | undefined {
  const p = left.payload as { protocol?: string; field?: string } | undefined;
  if (p?.protocol === 'arp') {
    switch (p.field) {
      case 'operation':
        return { kind: 'num', value: ctx.arp.op };
      case 'saddr ip':
        return { kind: 'ip', value: ctx.arp.senderIp };
      case 'daddr ip':
        return { kind: 'ip', value: ctx.arp.targetIp };
      case 'saddr ether':
        return { kind: 'mac', value: ctx.arp.senderMac };
      case 'daddr ether':
        return { kind: 'mac', value: ctx.arp.targetMac };
      case 'htype':
        return { kind: 'num', value: ctx.arp.htype };
      case 'ptype':
        return { kind: 'num', value: ctx.arp.ptype };
      case 'hlen':
        return { kind: 'num', value: ctx.arp.hlen };
      case 'plen':
        return { kind: 'num', value: ctx.arp.plen };
    }
    return undefined;
  }
  if (p?.protocol === 'ether') {
    if (p.field === 'saddr') return { kind: 'mac', value: ctx.ethSrc };
    if (p.field === 'daddr') return { kind: 'mac', value: ctx.ethDst };
    if (p.field === 'type') return { kind: 'num', value: 0x0806 };
    return undefined;
  }
  const meta = left.meta as { key?: string } | undefined;
  if (meta?.key === 'iifname') return { kind: 'str', value: ctx.iifname };
  return undefined;
}

const NAMED: Record<string, number> = { request: 1, reply: 2, ether: 1, ip: 0x0800 };

const ipNum = (ip: string) => ipv4ToBytes(ip).readUInt32BE(0);

function equals(kind: string, actual: string | number, right: unknown): Tri {
  if (right && typeof right === 'object') {
    const o = right as Record<string, unknown>;
    if (o.prefix && kind === 'ip') {
      const { addr, len } = o.prefix as { addr: string; len: number };
      const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      return ((ipNum(String(actual)) & mask) >>> 0) === ((ipNum(addr) & mask) >>> 0);
    }
    if (Array.isArray(o.range) && o.range.length === 2) {
      const [lo, hi] = o.range as unknown[];
      if (kind === 'ip') return ipNum(String(actual)) >= ipNum(String(lo)) && ipNum(String(actual)) <= ipNum(String(hi));
      if (kind === 'num') return Number(actual) >= toNum(lo) && Number(actual) <= toNum(hi);
      return 'unknown';
    }
    if (Array.isArray(o.set)) {
      let any: Tri = false;
      for (const el of o.set) {
        const r = equals(kind, actual, el);
        if (r === true) return true;
        if (r === 'unknown') any = 'unknown';
      }
      return any;
    }
    return 'unknown';
  }
  if (kind === 'num') return Number(actual) === toNum(right);
  if (kind === 'mac') return String(actual) === String(right).toLowerCase();
  if (kind === 'str') {
    const r = String(right);
    return r.endsWith('*') ? String(actual).startsWith(r.slice(0, -1)) : String(actual) === r;
  }
  return String(actual) === String(right);
}

function toNum(v: unknown): number {
  if (typeof v === 'number') return v;
  const s = String(v);
  if (s in NAMED) return NAMED[s]!;
  return Number(s);
}

function matchExpr(m: MatchExpr, ctx: Ctx): Tri {
  const f = fieldValue(m.left ?? {}, ctx);
  if (!f) return 'unknown';
  let eq: Tri;
  switch (m.op) {
    case '==':
    case 'in':
      return equals(f.kind, f.value, m.right);
    case '!=':
      eq = equals(f.kind, f.value, m.right);
      return eq === 'unknown' ? eq : !eq;
    case '<':
    case '>':
    case '<=':
    case '>=': {
      if (f.kind !== 'num') return 'unknown';
      const a = Number(f.value);
      const b = toNum(m.right);
      return m.op === '<' ? a < b : m.op === '>' ? a > b : m.op === '<=' ? a <= b : a >= b;
    }
    default:
      return 'unknown';
  }
}

/** Compact text of a rule for messages. */
export function ruleText(r: NftRule): string {
  const parts: string[] = [];
  for (const e of r.expr as Record<string, unknown>[]) {
    const key = Object.keys(e ?? {})[0]!;
    if (key === 'match') {
      const m = e.match as MatchExpr;
      const p = m.left?.payload as { protocol?: string; field?: string } | undefined;
      const meta = m.left?.meta as { key?: string } | undefined;
      const left = p ? `${p.protocol} ${p.field}` : meta ? `meta ${meta.key}` : Object.keys(m.left ?? {})[0] ?? '?';
      const right = typeof m.right === 'object' ? JSON.stringify(m.right) : String(m.right);
      parts.push(`${left} ${m.op === '==' ? '' : m.op + ' '}${right}`);
    } else if (key === 'jump' || key === 'goto') {
      parts.push(`${key} ${(e[key] as { target?: string })?.target}`);
    } else if (key !== 'counter') {
      parts.push(key);
    }
  }
  return `arp ${r.table} ${r.chain}${r.handle !== undefined ? ` #${r.handle}` : ''}: ${parts.join(' ')}`;
}
