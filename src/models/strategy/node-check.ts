/** What a node (run-node, compare-garp's strategy rows) can run of a strategy: external senders have limits. */
import { usageError } from '../../core/errors.js';
import { formsOf, isExternal } from './forms.js';
import type { Family, Strategy } from './spec-language.js';
import { announcementLanguage } from './language.js';

/**
 * Reject combinations a node cannot run, with the fix. With `family` (the VIP's: 4 or 6), also a form that has
 * no frames for that family (an ARP form for an IPv6 VIP, `na` for an IPv4 one) or the other family's options.
 */
export function checkNodeStrategy(s: Strategy, flag = '--garp', family?: Family): void {
  if (family !== undefined) announcementLanguage.checkFamily(s, family, flag);
  const alone = (family !== undefined ? [announcementLanguage.resolve(s, family)] : s.byFamily ? [s.byFamily[4], s.byFamily[6]] : [s]).find((x) => x.parts && isExternal(x));
  if (alone) {
    const ext = formsOf(alone).find((p) => isExternal(p))!;
    throw usageError(`strategy "${s.spec}": ${ext.form} runs an external program, which a node runs alone`, flag, `give ${ext.spec} as the whole strategy, or only frame forms joined by + (e.g. na+directed+answer-probes)`);
  }
  if (isExternal(s)) {
    if (s.vlan !== undefined) throw usageError(`strategy "${s.spec}": ${s.form} cannot tag frames (vlan=)`, flag, 'run it on the VLAN interface instead');
    if (s.bursts.length > 1) throw usageError(`strategy "${s.spec}": ${s.form} sends one burst`, flag, `use count=N, or a frame form such as request:count=${s.options.count ?? s.options.burst}`);
    if (s.form === 'arping' && (s.intervalMs < 1000 || s.intervalMs % 1000 !== 0)) {
      throw usageError(`strategy "${s.spec}": iputils arping takes whole seconds between frames`, flag, 'write interval=1s (or 2s, …), or use request / reply for shorter intervals');
    }
  }
}
