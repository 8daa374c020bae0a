import { test } from 'node:test';
import { checkTakeover } from './lab-takeover-check.js';

// The lab row for hadiag's own node: `lab up --manager hadiag` (fast timers), the primary's link goes down.
// With run-node's default strategy (directed requests to the clients it has seen) the GARP-filtering client
// recovers at takeover like the default one (plain GARP against it: compare-matrix.test.ts).
test('hadiag (fast) takes over in the lab; with its default strategy the GARP-filtering client recovers at takeover too', { timeout: 150_000 }, () =>
  checkTakeover({ manager: 'hadiag', timers: 'fast', retransMs: 1000, maxTakeoverMs: 6000, fixed: true }),
);
