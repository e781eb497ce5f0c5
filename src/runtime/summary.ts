// Run statistics computed from the metrics blocks (end-of-run line, metrics.jsonl, the benchmark).
import type { BlockSnapshot } from '../metrics/block.js';
import { PLAN_DIAGNOSTICS, UPDATE_DIAGNOSTICS } from '../metrics/layouts.js';

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

/**
 * The update and planner diagnostics of a train line, as the synchronous loop logs them from its
 * agent: the newest update's (once this process's learner has updated) and the acting planners'
 * mean over the actors that have planned (with mpc).
 */
export function trainDiagnostics(learner: BlockSnapshot, actors: readonly BlockSnapshot[], mpc: boolean): Record<string, number> {
  const out: Record<string, number> = {};
  if (learner.histogram('update_seconds').count > 0) {
    for (const key of UPDATE_DIAGNOSTICS) out[key] = learner.scalar(key);
    out.nonfinite_grads = learner.scalar('update_nonfinite_grads');
    if (learner.histogram('reanalysis_seconds').count > 0) out.reanalyzed_total = learner.scalar('reanalyzed_total');
  }
  const planned = actors.filter((b) => b.histogram('plan_seconds').count > 0);
  if (mpc && planned.length > 0) {
    for (const key of PLAN_DIAGNOSTICS) out[key] = planned.reduce((sum, b) => sum + b.scalar(key), 0) / planned.length;
  }
  return out;
}
