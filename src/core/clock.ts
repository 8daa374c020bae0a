/** Wall-clock epoch milliseconds with sub-millisecond resolution (performance.timeOrigin + performance.now()). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
