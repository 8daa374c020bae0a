import { usageError } from '../../../core/errors.js';
import type { Manager } from './types.js';
import { heartbeat } from './heartbeat.js';
import { keepalived } from './keepalived.js';
import { ucarp } from './ucarp.js';
import { hadiag } from './hadiag.js';
import { pacemaker } from './pacemaker.js';

/** Every manager the lab can run. hadiag's own node (run-node) is added here when it lands. */
export const MANAGERS: Manager[] = [heartbeat, keepalived, ucarp, hadiag, pacemaker];

export function getManager(name: string): Manager {
  const m = MANAGERS.find((x) => x.name === name);
  if (!m) {
    const known = MANAGERS.map((x) => x.name).join(', ');
    const later = name === 'hadiag' ? ' (the hadiag manager arrives with run-node)' : '';
    throw usageError(`unknown manager "${name}"${later}`, '--manager', `use one of: ${known}`);
  }
  return m;
}
