/** Shared by the measure-*.test.ts files: run the CLI in a namespace, and the independent truth from a port capture (src/effects/lab/port-truth.ts). */
export { runHadiag as hadiag } from '../../src/effects/lab/hadiag-cli.js';
export { startPortCapture, outagesFromPortCapture, arpOrderFromPortCapture, type PortTruth } from '../../src/effects/lab/port-truth.js';
