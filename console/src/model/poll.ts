/** Polling cadence: fast while something runs, slow when idle, backing off after failures. */
export function pollInterval(failures: number, live: boolean): number {
  const base = live ? 2_000 : 10_000;
  if (failures === 0) return base;
  return Math.min(60_000, base * 2 ** Math.min(failures, 5));
}
