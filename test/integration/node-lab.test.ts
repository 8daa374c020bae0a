import { test } from 'node:test';
import { checkTakeover } from './lab-takeover-check.js';

// The lab row for hadiag's own node: `lab up --manager hadiag` (fast timers), the primary's link goes down,
// the default client recovers within a few seconds and the GARP-filtering client clearly later.
test('hadiag (fast) takes over in the lab; the GARP-filtering client stays out clearly longer', { timeout: 150_000 }, () =>
  checkTakeover({ manager: 'hadiag', timers: 'fast', retransMs: 1000, maxTakeoverMs: 6000 }),
);
