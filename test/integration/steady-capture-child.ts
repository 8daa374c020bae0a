/** Child of steady-capture.test.ts, run inside a lab namespace: one SteadyCapture, events as JSON lines. */
import { SteadyCapture } from '../../src/effects/io/steady-capture.js';

const iface = process.argv[2]!;
const say = (m: Record<string, unknown>) => process.stdout.write(JSON.stringify(m) + '\n');
const cap = new SteadyCapture(iface, 'arp', () => say({ ev: 'frame' }), {
  bufferSize: 256 * 1024,
  onState: (up, detail) => {
    let refused = false;
    if (!up) {
      try {
        cap.send(Buffer.alloc(60));
      } catch {
        refused = true;
      }
    }
    say({ ev: up ? 'up' : 'down', detail, refused, reopens: cap.reopens });
  },
});
say({ ev: 'ready', up: cap.up });
process.stdin.on('end', () => {
  cap.close();
  process.exit(0);
});
process.stdin.resume();
