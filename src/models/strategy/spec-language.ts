/**
 * The announcement-strategy spec language itself, over whatever forms it is given (docs/facts/cli-conventions.md):
 *
 *   FORM[:ARG][,OPTION=VALUE...]      or      FORM:OPTION=VALUE[,OPTION=VALUE...]
 *
 *   count=N | count=N+M+…@GAP   announcements per burst; several bursts GAP apart (keepalived: 5+5@5s)
 *   interval=DUR            time between announcements of one burst (default 1s; 0ms inside multi-bursts)
 *   target=bcast|zero|own   ARP target-MAC field (forms that take it)
 *   refresh=DUR             repeat the whole plan every DUR while the VIP is held
 *   rate=PPS                at most PPS frames a second (default: as fast as the wire takes them); frames
 *                           that would come sooner are delayed, in plan order (switches police ARP to their CPU)
 *   vlan=N                  add an 802.1Q tag
 *
 *   FORM…+FORM…[+…]             several forms sent together, each with its own options
 *                               (`na+directed+answer-probes`); identical frames due at the same instant go once
 *   ALIAS                       a name that stands for one spec per VIP family (language.ts: `default`)
 *
 * One language for both families: the VIP a plan is made for picks the frames. A form plans an IPv4 VIP with
 * its `round` (ARP) and an IPv6 VIP with its `round6` (neighbour discovery); a form without the round for a
 * family, or an option of the other family (`target=` is ARP's; `router=`, `override=`, `lladdr=`, `via=` are
 * IPv6's), is a usage error naming the forms that do it (`checkFamily` says so before any plan).
 *
 * A `StrategyLanguage` knows exactly the forms passed to it (forms.ts lists hadiag's; language.ts is the one
 * language every command and announcer uses).
 */
import { usageError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import type { ArpTargetForm } from '../../codecs/arp.js';
import { isIPv6 } from '../../codecs/addr.js';

export type Family = 4 | 6;
/** The family of an address text (IPv6 if it parses as one, else IPv4). */
export const familyOf = (ip: string): Family => (isIPv6(ip) ? 6 : 4);

export interface Client {
  ip: string;
  mac?: string;
}

export interface Strategy {
  /** the spec as written */
  spec: string;
  form: string;
  /** the positional argument (directed:IP, unicast-reply:IP@MAC), if any */
  arg?: string;
  /** clients named in the spec (directed, unicast-reply) */
  clients?: Client[];
  target?: ArpTargetForm;
  /** announcements per burst, e.g. [5, 5] */
  bursts: number[];
  /** from the start of one burst to the start of the next */
  gapMs: number;
  intervalMs: number;
  refreshMs?: number;
  /** at most this many frames a second (`rate=PPS`) */
  ratePps?: number;
  vlan?: number;
  /** every option as written (forms read their own) */
  options: Record<string, string>;
  /** a spec of several forms (`na+directed+answer-probes`): each part planned, the frames sent together */
  parts?: Strategy[];
  /** an alias (`default`): the strategy it stands for, per VIP family */
  byFamily?: Record<Family, Strategy>;
}

export interface PlanContext {
  vip: string;
  mac: string;
  /** clients known to the sender (for bare directed / unicast-reply) */
  clients?: Client[];
  /** with `refresh=`, plan repetitions up to this offset (default: the first round only) */
  untilMs?: number;
  /**
   * IPv6: this host forwards on the interface (net.ipv6.conf.IF.forwarding=1), so its NAs carry the router
   * flag (RFC 4861 7.2.4); a host that is no router must leave it clear, or clients that took it for one … and a
   * router that clears it makes its clients drop the routes through it. `router=on|off` overrides.
   */
  router?: boolean;
}

export interface PlannedFrame {
  offsetMs: number;
  frame: Buffer;
  label: string;
}

/** A strategy form: what one announcement round puts on the wire. */
export interface FormDef {
  name: string;
  summary: string;
  /** 'none': no argument; 'optional' / 'required': a positional ARG */
  arg: 'none' | 'optional' | 'required';
  /** options this form accepts besides the common ones (for both families) */
  options?: string[];
  /** options only an IPv6 plan takes (an IPv4 plan refuses them) */
  options6?: string[];
  /** the values an option of this form may take (checked when parsed) */
  optionValues?: Record<string, readonly string[]>;
  /** whether `target=` (the ARP target-MAC field) applies */
  takesTarget?: boolean;
  /**
   * interval slots one round takes: 1 (default) sends a round's frames together; 2 for `both`, whose reply
   * follows its request one interval later
   */
  roundSlots?: number;
  /** validate/parse ARG into clients; throw a message (string) naming what is wrong */
  parseArg?: (arg: string) => Client[];
  /** the frames of one round for an IPv4 VIP, in order (absent: the form has no IPv4 frames) */
  round?: (s: Strategy, ctx: PlanContext) => { frame: Buffer; label: string }[];
  /** the frames of one round for an IPv6 VIP, in order (absent: the form has no IPv6 frames) */
  round6?: (s: Strategy, ctx: PlanContext) => { frame: Buffer; label: string }[];
}

const COMMON_OPTIONS = ['count', 'interval', 'target', 'refresh', 'vlan', 'burst', 'rate'];
const MAX_FRAMES = 10_000;

/** Where a spec of several forms splits: a `+` followed by a form name (never the digits of count=5+5@5s). */
const PART_SEPARATOR = /\+(?=[A-Za-z])/;

export class StrategyLanguage {
  private readonly forms = new Map<string, FormDef>();

  /**
   * `forms` in the order errors list them; `aliases`: names that stand for a spec per VIP family (`default`:
   * hadiag's default for each family), resolved by `resolve` and by every plan.
   */
  constructor(
    forms: readonly FormDef[],
    private readonly aliases: Readonly<Record<string, Record<Family, string>>> = {},
  ) {
    for (const f of forms) {
      if (this.forms.has(f.name)) throw new Error(`strategy form "${f.name}" is listed twice`);
      this.forms.set(f.name, f);
    }
  }

  /** What a strategy sends for a VIP of `family`: an alias's strategy for that family, else the strategy itself. */
  resolve(s: Strategy, family: Family): Strategy {
    return s.byFamily?.[family] ?? s;
  }

  /** The strategy an alias stands for (`default`), or undefined when `name` is no alias. */
  private parseAlias(text: string, flag: string): Strategy | undefined {
    const name = text.split(':')[0]!.trim();
    const specs = Object.hasOwn(this.aliases, name) ? this.aliases[name] : undefined;
    if (!specs) return undefined;
    if (text !== name) throw usageError(`strategy "${text}": ${name} takes no argument or option`, flag, `write ${name} alone, or the strategy it stands for (IPv4: ${specs[4]}; IPv6: ${specs[6]}) with your options`);
    const byFamily = { 4: this.parse(specs[4], flag), 6: this.parse(specs[6], flag) };
    return { spec: name, form: name, bursts: [1], gapMs: 0, intervalMs: 0, options: {}, byFamily };
  }

  /** `A+B+…`: every part a spec of its own (no alias, no external sender), the frames of all of them sent together. */
  private parseParts(text: string, flag: string): Strategy | undefined {
    const texts = text.split(PART_SEPARATOR);
    if (texts.length < 2) return undefined;
    const parts = texts.map((t) => {
      if (Object.hasOwn(this.aliases, t.split(':')[0]!.trim())) throw usageError(`strategy "${text}": ${t} names a whole strategy, not a part of one`, flag, 'list the forms themselves, e.g. na+directed+answer-probes');
      return this.parse(t, flag);
    });
    const forms = parts.map((p) => p.form);
    const twice = forms.find((f, i) => forms.indexOf(f) !== i);
    if (twice) throw usageError(`strategy "${text}": ${twice} is listed twice`, flag, `give ${twice} once, with all its options`);
    return { spec: text, form: forms.join('+'), bursts: [1], gapMs: 0, intervalMs: 0, options: {}, parts };
  }

  formNames(): string[] {
    return [...this.forms.keys()];
  }

  /** Parse one spec. Throws usageError naming the bad part; `flag` names the option it came from. */
  parse(spec: string, flag = '--send'): Strategy {
    const names = this.formNames();
    const text = String(spec).trim();
    const bad = (what: string, fix?: string) => usageError(`strategy "${text}": ${what}`, flag, fix ?? `e.g. both:count=10,interval=250ms or request:count=5+5@5s (forms: ${names.join(', ')})`);
    if (!text) throw bad('is empty');
    const whole = this.parseAlias(text, flag) ?? this.parseParts(text, flag);
    if (whole) return whole;
    const colon = text.indexOf(':');
    const formName = (colon < 0 ? text : text.slice(0, colon)).trim();
    const def = this.forms.get(formName);
    if (!def) {
      const near = names.find((n) => n.startsWith(formName.slice(0, 3)));
      throw bad(`unknown form "${formName}"`, near ? `did you mean ${near}? (forms: ${names.join(', ')})` : `use one of: ${names.join(', ')}`);
    }
    const s: Strategy = { spec: text, form: def.name, bursts: [3], gapMs: 0, intervalMs: 1000, options: {} };
    const rest = colon < 0 ? '' : text.slice(colon + 1);
    if (colon >= 0 && !rest.trim()) throw bad(`nothing after "${formName}:"`);
    const parts = rest ? rest.split(',').map((p) => p.trim()) : [];
    let intervalGiven = false;
    parts.forEach((part, i) => {
      if (!part) throw bad('has an empty part (two commas?)');
      const eq = part.indexOf('=');
      if (eq < 0) {
        if (i !== 0 || def.arg === 'none') throw bad(`"${part}" is not OPTION=VALUE`, def.arg === 'none' ? `${def.name} takes no argument; options: ${COMMON_OPTIONS.join(', ')}` : undefined);
        try {
          s.arg = part;
          s.clients = def.parseArg ? def.parseArg(part) : undefined;
        } catch (msg) {
          throw bad(typeof msg === 'string' ? msg : (msg as Error).message);
        }
        return;
      }
      const key = part.slice(0, eq).trim();
      const value = part.slice(eq + 1).trim();
      const own = [...(def.options ?? []), ...(def.options6 ?? [])];
      if (!COMMON_OPTIONS.includes(key) && !own.includes(key)) throw bad(`unknown option "${key}"`, `options: ${[...COMMON_OPTIONS, ...own].join(', ')}`);
      if (key in s.options) throw bad(`option "${key}" given twice`);
      if (!value) throw bad(`option "${key}" has no value`);
      const allowed = def.optionValues?.[key];
      if (allowed && !allowed.includes(value)) throw bad(`${key} "${value}" is not ${allowed.join(', ').replace(/, ([^,]*)$/, ' or $1')}`);
      s.options[key] = value;
      switch (key) {
        case 'count':
        case 'burst': {
          const m = /^(\d+(?:\+\d+)*)(?:@(.+))?$/.exec(value);
          if (!m) throw bad(`${key} "${value}" is not N or N+M@GAP`, 'e.g. count=3 or count=5+5@5s');
          s.bursts = m[1]!.split('+').map(Number);
          if (s.bursts.some((n) => n < 1 || n > 1000)) throw bad(`${key} "${value}": each count must be 1–1000`);
          if (s.bursts.length > 1 && !m[2]) throw bad(`${key} "${value}" has several bursts but no @GAP`, `e.g. ${key}=${m[1]}@5s`);
          if (s.bursts.length === 1 && m[2]) throw bad(`${key} "${value}": @GAP needs several bursts`, `e.g. ${key}=${m[1]}+${m[1]}@${m[2]}`);
          if (m[2]) s.gapMs = duration(m[2], `${key} gap`, bad);
          break;
        }
        case 'interval':
          s.intervalMs = duration(value, 'interval', bad);
          intervalGiven = true;
          if (s.intervalMs > 3_600_000) throw bad(`interval "${value}" is longer than 1h`);
          break;
        case 'target':
          if (value !== 'bcast' && value !== 'zero' && value !== 'own') throw bad(`target "${value}" is not bcast, zero or own`);
          if (!def.takesTarget) throw bad(`${def.name} has no target option`);
          s.target = value;
          break;
        case 'refresh':
          s.refreshMs = duration(value, 'refresh', bad);
          if (s.refreshMs < 100) throw bad(`refresh "${value}" is below 100ms`);
          break;
        case 'rate': {
          const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
          if (!(n >= 1 && n <= 1_000_000)) throw bad(`rate "${value}" is not 1–1000000 frames a second`, 'e.g. rate=500');
          s.ratePps = n;
          break;
        }
        case 'vlan': {
          const n = /^\d+$/.test(value) ? Number(value) : NaN;
          if (!(n >= 1 && n <= 4094)) throw bad(`vlan "${value}" is not 1–4094`);
          s.vlan = n;
          break;
        }
      }
    });
    if (def.arg === 'required' && !s.arg) throw bad(`${def.name} needs an argument`, `write ${def.name}:ARG`);
    if (s.bursts.length > 1 && !intervalGiven) s.intervalMs = 0;
    const slots = def.roundSlots ?? 1;
    for (const n of s.bursts.slice(0, -1)) {
      const span = (n * slots - 1) * s.intervalMs;
      if (span >= s.gapMs) throw bad(`a burst of ${n} at interval ${s.intervalMs} ms lasts longer than the gap ${s.gapMs} ms`);
    }
    if (s.bursts.reduce((a, b) => a + b, 0) * slots > MAX_FRAMES) throw bad(`more than ${MAX_FRAMES} frames`);
    return s;
  }

  /** The forms that plan frames for a family. */
  formsFor(family: Family): string[] {
    return [...this.forms.values()].filter((f) => (family === 6 ? f.round6 : f.round)).map((f) => f.name);
  }

  /**
   * Can this strategy announce a VIP of `family`? Throws the usage error the plan would (`flag` names the
   * option the spec came from), so a command can refuse a spec before it plans anything.
   */
  checkFamily(s: Strategy, family: Family, flag = 'strategy'): void {
    if (s.byFamily) return this.checkFamily(s.byFamily[family], family, flag);
    if (s.parts) {
      for (const p of s.parts) this.checkFamily(p, family, flag);
      return;
    }
    const def = this.forms.get(s.form);
    if (!def) throw usageError(`strategy "${s.spec}": unknown form "${s.form}"`, flag, `use one of: ${this.formNames().join(', ')}`);
    const what = family === 6 ? 'an IPv6 VIP (neighbour discovery)' : 'an IPv4 VIP (ARP)';
    if (!(family === 6 ? def.round6 : def.round)) {
      const other = family === 6 ? 'ARP frames (IPv4 only)' : 'IPv6 neighbour discovery frames (IPv6 only)';
      throw usageError(`strategy "${s.spec}": ${def.name} sends ${other}, not for ${what}`, flag, `for ${what} use one of: ${this.formsFor(family).join(', ')}`);
    }
    if (family === 6 && s.target !== undefined) throw usageError(`strategy "${s.spec}": target= is the ARP target-MAC field, not for ${what}`, flag, 'drop target=');
    if (family === 4) {
      const v6 = Object.keys(s.options).find((k) => def.options6?.includes(k));
      if (v6) throw usageError(`strategy "${s.spec}": ${v6}= is for an IPv6 VIP, not for ${what}`, flag, `drop ${v6}=`);
    }
    const wrong = s.clients?.find((c) => familyOf(c.ip) !== family);
    if (wrong) throw usageError(`strategy "${s.spec}": client ${wrong.ip} is not an IPv${family} address, the VIP is`, flag, `name an IPv${family} client`);
  }

  /**
   * Timed frames for one strategy: every round's frames `interval` apart within a burst, bursts `gap` apart
   * (start to start), and with `refresh=` the whole plan repeated up to `ctx.untilMs`. Sorted by offset.
   * The VIP's family picks the form's round (ARP for IPv4, neighbour discovery for IPv6).
   */
  plan(s: Strategy, ctx: PlanContext): PlannedFrame[] {
    if (s.byFamily) return this.plan(s.byFamily[familyOf(ctx.vip)], ctx);
    if (s.parts) return together(s.parts.map((p) => this.plan(p, ctx)));
    const def = this.forms.get(s.form);
    if (!def) throw usageError(`strategy "${s.spec}": unknown form "${s.form}"`, 'strategy', `use one of: ${this.formNames().join(', ')}`);
    const family = familyOf(ctx.vip);
    this.checkFamily(s, family);
    const round = (family === 6 ? def.round6! : def.round!)(s, ctx);
    const slots = def.roundSlots ?? 1;
    const once: PlannedFrame[] = [];
    const total = s.bursts.reduce((a, b) => a + b, 0);
    let n = 0;
    s.bursts.forEach((count, b) => {
      const start = b * s.gapMs;
      for (let i = 0; i < count; i++) {
        n++;
        round.forEach((r, k) => {
          // frames of one round beyond its slots share the last one (directed / unicast-reply: one per client)
          const offsetMs = start + (i * slots + Math.min(k, slots - 1)) * s.intervalMs;
          const tag = s.bursts.length > 1 ? ` ${n}/${total} (burst ${b + 1})` : ` ${n}/${total}`;
          once.push({ offsetMs, frame: r.frame, label: r.label + tag });
        });
      }
    });
    if (!s.refreshMs || !ctx.untilMs) return paced(once, s.ratePps);
    const out = [...once];
    for (let t = s.refreshMs; t <= ctx.untilMs; t += s.refreshMs) {
      for (const p of once) if (t + p.offsetMs <= ctx.untilMs) out.push({ ...p, offsetMs: t + p.offsetMs, label: `${p.label} refresh @${t / 1000}s` });
      if (out.length > MAX_FRAMES) break;
    }
    return paced(out.sort((a, b) => a.offsetMs - b.offsetMs), s.ratePps);
  }
}

/** The plans of a spec's parts as one: by offset (a stable sort keeps the parts' order), a frame sent once per instant. */
function together(plans: PlannedFrame[][]): PlannedFrame[] {
  const seen = new Set<string>();
  return plans
    .flat()
    .sort((a, b) => a.offsetMs - b.offsetMs)
    .filter((p) => {
      const key = `${p.offsetMs} ${p.frame.toString('hex')}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/** `rate=PPS`: no frame sooner than 1/PPS after the one before it (a stable sort keeps the plan's order). */
function paced(plan: PlannedFrame[], ratePps: number | undefined): PlannedFrame[] {
  if (!ratePps) return plan;
  const gap = 1000 / ratePps;
  let last = -Infinity;
  return [...plan]
    .sort((a, b) => a.offsetMs - b.offsetMs)
    .map((p) => {
      const offsetMs = Math.max(p.offsetMs, last + gap);
      last = offsetMs;
      return offsetMs === p.offsetMs ? p : { ...p, offsetMs };
    });
}

function duration(text: string, what: string, bad: (w: string, f?: string) => Error): number {
  try {
    return parseDuration(text, what);
  } catch {
    if (/^\d+(\.\d+)?$/.test(text)) throw bad(`${what} "${text}" has no unit`, `write ${text}ms or ${text}s`);
    throw bad(`${what} "${text}" is not a duration`, 'write e.g. 250ms, 1s, 5s');
  }
}

/** Total time a plan takes (the last frame's offset). */
export function planSpanMs(plan: PlannedFrame[]): number {
  return plan.reduce((m, p) => Math.max(m, p.offsetMs), 0);
}
