/**
 * Send datagrams at a steady rate from the current network namespace (run it inside a lab host with
 * `ip netns exec`). Paced by the monotonic clock in small batches, so the average rate holds even
 * when the event loop is late; `sendBufferBytes` is raised so bursts are not dropped locally.
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';

export interface FloodOptions {
  to: string;
  port: number;
  /** datagrams per second (0 = as fast as possible) */
  rate: number;
  durationMs: number;
  /** the datagram to send as number i */
  payload: (i: number) => Buffer;
  broadcast?: boolean;
  /** source port to bind (default ephemeral) */
  srcPort?: number;
}

export interface FloodResult {
  sent: number;
  errors: number;
  durationMs: number;
  /** achieved datagrams per second */
  rate: number;
}

export async function flood(o: FloodOptions): Promise<FloodResult> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((res, rej) => {
    sock.once('error', rej);
    sock.bind(o.srcPort ?? 0, () => {
      sock.off('error', rej);
      res();
    });
  });
  if (o.broadcast) sock.setBroadcast(true);
  try {
    sock.setSendBufferSize(4 * 1024 * 1024);
  } catch {
    /* keep the default */
  }
  let sent = 0;
  let errors = 0;
  let inflight = 0;
  const t0 = performance.now();
  const end = t0 + o.durationMs;
  const onSent = (err: Error | null) => {
    inflight--;
    if (err) errors++;
  };
  await new Promise<void>((resolve) => {
    const step = () => {
      const now = performance.now();
      if (now >= end) return resolve();
      const due = o.rate > 0 ? Math.floor(((now - t0) / 1000) * o.rate) : sent + 256;
      // keep the number of unfinished sends bounded (memory), send what is due
      while (sent < due && inflight < 4096) {
        inflight++;
        sock.send(o.payload(sent), o.port, o.to, onSent);
        sent++;
      }
      if (o.rate > 0 && sent >= due) setTimeout(step, 1);
      else setImmediate(step);
    };
    step();
  });
  while (inflight > 0) await new Promise((r) => setImmediate(r));
  const durationMs = performance.now() - t0;
  sock.close();
  return { sent, errors, durationMs, rate: (sent / durationMs) * 1000 };
}
