/**
 * hadiag's announcement-strategy language: the spec language (spec-language.ts) over every form of forms.ts.
 * One language for `garp-check --send`, `run-node --garp`, `compare-garp --strategy` and the announcers,
 * whatever else the process imported. A different set of forms is a `new StrategyLanguage(forms)`.
 */
import { announcementForms } from './forms.js';
import { StrategyLanguage, type PlanContext, type PlannedFrame, type Strategy } from './spec-language.js';

export { StrategyLanguage, planSpanMs } from './spec-language.js';
export type { Client, FormDef, PlanContext, PlannedFrame, Strategy } from './spec-language.js';

export const announcementLanguage = new StrategyLanguage(announcementForms());

/** Parse one spec of the announcement language; `flag` names the option it came from (in errors). */
export function parseStrategy(spec: string, flag = '--send'): Strategy {
  return announcementLanguage.parse(spec, flag);
}

/** The timed frames of a strategy of the announcement language. */
export function planAnnouncements(s: Strategy, ctx: PlanContext): PlannedFrame[] {
  return announcementLanguage.plan(s, ctx);
}
