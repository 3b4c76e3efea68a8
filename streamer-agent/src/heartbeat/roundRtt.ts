/**
 * RTTs to a tenth of a millisecond: finer is clock noise, and every ping carries them to the
 * hub and the player (`0.1` rather than `0.10000000009313226`).
 */
export function roundRtt(ms: number): number {
  return Math.round(ms * 10) / 10;
}
