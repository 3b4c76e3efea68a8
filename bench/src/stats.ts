/** Percentiles and the other small numbers the report is made of. */

export interface Distribution {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function distribution(values: number[]): Distribution {
  if (values.length === 0)
    return { count: 0, p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) =>
    round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN);
  return {
    count: sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: round(sorted[sorted.length - 1] ?? 0),
  };
}

/** Two decimals: enough for milliseconds and ratios. */
export function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** a / b; NaN (printed n/a, stored null) when either is not a number or b is not positive. */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? round(a / b) : Number.NaN;
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  const value = sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return round(value ?? Number.NaN);
}

/** Median and range of some figures over repeats (non-numbers left out; n says how many counted). */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
  values: number[];
}

export function spread(values: number[]): Spread {
  const ok = values.filter((v) => Number.isFinite(v));
  return {
    median: median(ok),
    min: ok.length > 0 ? Math.min(...ok) : Number.NaN,
    max: ok.length > 0 ? Math.max(...ok) : Number.NaN,
    n: ok.length,
    values: ok,
  };
}
