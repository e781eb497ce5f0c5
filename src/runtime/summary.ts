// Run statistics computed from the metrics blocks (end-of-run line, metrics.jsonl, the benchmark).
import type { BlockSnapshot } from '../metrics/block.js';

/** Quantiles of the policy lag (updates) over every stored transition, from the exact per-value counts. */
export function lagQuantiles(actors: readonly BlockSnapshot[], qs: readonly number[]): number[] {
  const counts: number[] = [];
  let total = 0;
  for (const b of actors) {
    const h = b.intHistogram('policy_lag');
    for (let i = 0; i < h.counts.length; i++) counts[i] = (counts[i] ?? 0) + h.counts[i];
    total += h.count;
  }
  return qs.map((q) => {
    if (total === 0) return 0;
    const rank = q * total;
    let acc = 0;
    for (let i = 0; i < counts.length; i++) {
      acc += counts[i];
      if (acc >= rank) return i;
    }
    return counts.length - 1;
  });
}
