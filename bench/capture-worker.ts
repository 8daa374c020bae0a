/**
 * Runs inside the receiving namespace of the capture-rate bench: opens the packet layer's capture
 * (src/effects/io/capture.ts) with a BPF filter, decodes every frame with decodeFrame, and on SIGUSR2 prints
 * one JSON line {received, decoded, udp, errors, cpuMs} and exits. Prints "ready" once the capture is open.
 */
import { openCapture } from '../src/effects/io/capture.js';
import { decodeFrame } from '../src/codecs/decode.js';

const [iface, filter] = process.argv.slice(2);
let decoded = 0;
let udp = 0;
let errors = 0;
const cap = openCapture(iface!, filter!, (frame) => {
  const f = decodeFrame(frame, cap.linktype);
  decoded++;
  if (f.udp) udp++;
  if (f.error) errors++;
}); // the packet layer's default ring, as garp-check and hb-inspect use it
const cpu0 = process.cpuUsage();
process.on('SIGUSR2', () => {
  const cpu = process.cpuUsage(cpu0);
  const st = cap.stats();
  cap.close();
  process.stdout.write(JSON.stringify({ received: st.received, decoded, udp, errors, cpuMs: (cpu.user + cpu.system) / 1000 }) + '\n');
  process.exit(0);
});
process.stdout.write('ready\n');
setInterval(() => {}, 1 << 30);
