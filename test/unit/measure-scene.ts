/** The cast of the measure unit tests: the VIP, one client, the old and new holder's MACs, a start time, a seeded random source. */
export const VIP = '198.18.0.20';
export const CLIENT = { ip: '198.18.0.5', mac: '02:00:00:00:00:05' };
export const OLD = '02:00:00:00:00:0b';
export const NEW = '02:00:00:00:00:0c';
export const BC = 'ff:ff:ff:ff:ff:ff';
export const T0 = 1_800_000_000_000;

/** A seeded linear congruential generator in [0, 1): the same sequence every run. */
export function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
