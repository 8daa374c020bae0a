/**
 * hadiag's announcement-strategy language: the spec language (spec-language.ts) over every form of forms.ts.
 * One language for `garp-check --send`, `run-node --garp`, `compare-garp --strategy` and the announcers,
 * whatever else the process imported. A different set of forms is a `new StrategyLanguage(forms)`.
 */
import { announcementForms } from './forms.js';
import { StrategyLanguage, type Family, type PlanContext, type PlannedFrame, type Strategy } from './spec-language.js';

export { StrategyLanguage, planSpanMs } from './spec-language.js';
export type { Client, FormDef, PlanContext, PlannedFrame, Strategy } from './spec-language.js';

/**
 * hadiag's default announcement per VIP family, the one place it is written (run-node's `--garp default`, the
 * sidecar's default, compare-garp naming the default's row):
 *  - IPv4 `directed`: ARP requests from the VIP to each client the node has seen (compare-garp's evidence,
 *    docs/compare-garp.md), falling back to send_arp-like rounds when none is known;
 *  - IPv6 `na+directed+answer-probes`: the unsolicited NA every client with an entry takes unless it drops
 *    unsolicited NAs, an NS from the VIP to each known client (the one frame Linux takes in every state and
 *    setting measured, FAILED and missing entries and drop_unsolicited_na=1 included), and a solicited NA to
 *    every NS a client still sends to the dead MAC (docs/ipv6.md, sections 2 and 6).
 */
export const DEFAULT_STRATEGY: Readonly<Record<Family, string>> = { 4: 'directed', 6: 'na+directed+answer-probes' };

export const announcementLanguage = new StrategyLanguage(announcementForms(), { default: DEFAULT_STRATEGY });

/** What a strategy sends for a VIP of `family` (the `default` alias resolved). */
export function resolveStrategy(s: Strategy, family: Family): Strategy {
  return announcementLanguage.resolve(s, family);
}

/** Parse one spec of the announcement language; `flag` names the option it came from (in errors). */
export function parseStrategy(spec: string, flag = '--send'): Strategy {
  return announcementLanguage.parse(spec, flag);
}

/** The timed frames of a strategy of the announcement language. */
export function planAnnouncements(s: Strategy, ctx: PlanContext): PlannedFrame[] {
  return announcementLanguage.plan(s, ctx);
}
