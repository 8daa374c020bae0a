import { test } from 'node:test';
import { TAKEOVER_CASES } from './lab-helpers.js';
import { checkTakeover } from './lab-takeover-check.js';

const c = TAKEOVER_CASES.heartbeat;
test(`the real heartbeat 3.0.6 (${c.timers}) takes over; the GARP-filtering client stays out clearly longer`, () => checkTakeover(c));
