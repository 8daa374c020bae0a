import { test } from 'node:test';
import { TAKEOVER_CASES } from './lab-helpers.js';
import { checkTakeover } from './lab-takeover-check.js';

// keepalived and ucarp (Heartbeat, slower to start, has its own file so each file stays short).
for (const c of [TAKEOVER_CASES.keepalived, TAKEOVER_CASES.ucarp]) {
  test(`${c.manager} (${c.timers}) takes over; the GARP-filtering client stays out clearly longer`, () => checkTakeover(c));
}
