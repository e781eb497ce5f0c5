// Running scales that normalize the policy objective (seed 000 section 5).
//
// Both track the 5-95 percentile range of a batch of values (the t = 0 slice: B values per update)
// with an exponential moving average, starting at 1:
//
//   'sample' floor (tdmpc2 RunningScale, used for max_q's Q scale):
//       s <- lerp(s, max(1, p95 - p5), tau)                 (floored before the EMA)
//   'ema' floor (bmpc-jax percentile_normalization(...).clip(1, None), used for distill's KL scale):
//       s <- max(1, lerp(s, p95 - p5, tau))                 (floored after the EMA)
//
// Percentiles interpolate linearly between order statistics at position p/100·(n-1), as
// torch (tdmpc2's _percentile) and jnp.percentile do. The loss divides by `value`.
// No allocation per update: the sort buffer is sized at construction.

export type ScaleFloor = 'sample' | 'ema';

/** q-th percentile (0..100) of the sorted values sorted[0..n), linear interpolation. */
export function percentileSorted(sorted: ArrayLike<number>, n: number, q: number): number {
  if (n < 1) throw new RangeError('percentile of an empty set');
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const w = pos - lo;
  return sorted[lo] * (1 - w) + sorted[hi] * w;
}

export class PercentileScale {
  /** Current scale (>= 1). Part of the agent state (checkpoints). */
  value = 1;
  /** Number of updates applied (0: never updated). */
  updates = 0;
  private readonly sorted: Float64Array;

  constructor(readonly tau: number, readonly floor: ScaleFloor, readonly maxCount: number) {
    if (!(tau >= 0 && tau <= 1)) throw new RangeError(`PercentileScale: tau must be in [0, 1], got ${tau}`);
    this.sorted = new Float64Array(Math.max(1, maxCount));
  }

  /**
   * Updates the scale from n values x[off + i·stride] (i < n). Non-finite values are skipped (a
   * diverged sample must not poison the scale); if none is finite the scale is left unchanged.
   * Returns the new value.
   */
  update(n: number, x: ArrayLike<number>, off = 0, stride = 1): number {
    if (n > this.maxCount) throw new RangeError(`PercentileScale: ${n} values exceed the capacity ${this.maxCount}`);
    let m = 0;
    for (let i = 0; i < n; i++) {
      const v = x[off + i * stride];
      if (Number.isFinite(v)) this.sorted[m++] = v;
    }
    if (m === 0) return this.value;
    // Pad with +Inf so one in-place sort of the whole buffer puts the m values first (no view object).
    this.sorted.fill(Infinity, m);
    this.sorted.sort();
    const range = percentileSorted(this.sorted, m, 95) - percentileSorted(this.sorted, m, 5);
    if (this.floor === 'sample') {
      const r = Math.max(1, range);
      this.value += this.tau * (r - this.value);
    } else {
      this.value = Math.max(1, this.value + this.tau * (range - this.value));
    }
    this.updates++;
    return this.value;
  }

  state(): { value: number; updates: number } {
    return { value: this.value, updates: this.updates };
  }

  load(s: { value: number; updates: number }): void {
    this.value = s.value;
    this.updates = s.updates;
  }
}
