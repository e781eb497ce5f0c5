// Numeric faults (NaN/Inf) are contained where they arise: the optimizer zeroes non-finite gradient
// entries before its step (src/agent/optimizer.ts), the planner ranks non-finite candidate scores
// last (src/agent/mppi.ts), a NaN/Inf policy-prior action is replaced by a fallback
// (src/agent/agent.ts), and an environment step whose simulation diverged or whose observation
// or reward is not finite ends its episode unstored (src/envs/env.ts). All count them; this turns
// the counts into one stderr warning per log line in which they grew, in both runtimes, so a
// diverging run is not silent.
import type { AgentFaultTotals } from '../agent/agent.js';

/** Counts over the whole run: checkpoints carry them, so a resumed run continues them. */
export interface NumericFaultCounts {
  /** NaN/Inf gradient entries zeroed, over the run's updates. */
  gradEntries: number;
  /** Planner candidates whose score was NaN/Inf, over the run's plans (acting and reanalysis). */
  planScores: number;
  /** Policy-prior acting actions (rows) that were NaN/Inf and replaced by the fallback, over the run. */
  policyActions: number;
}

/** The counts the synchronous loop's warnings follow, from its agent's totals. */
export function agentFaultCounts(f: AgentFaultTotals): NumericFaultCounts {
  return { gradEntries: f.gradEntries, planScores: f.actingPlanScores + f.reanalysisPlanScores, policyActions: f.policyActions };
}

/** How each count reads in a warning (both the training and the evaluation warnings use these). */
const PLAN_SCORES = 'planner candidates with a NaN/Inf score ranked last';
const POLICY_ACTIONS = 'NaN/Inf policy actions replaced by the fallback';

export class NumericFaultNotes {
  /** logged: the counts already reported (a resumed run starts from its checkpoint's). */
  constructor(private logged: NumericFaultCounts = { gradEntries: 0, planScores: 0, policyActions: 0 }) {}

  /** The warning for the faults counted since the last call, or null when there were none. */
  since(now: NumericFaultCounts): string | null {
    const grads = now.gradEntries - this.logged.gradEntries;
    const scores = now.planScores - this.logged.planScores;
    const actions = now.policyActions - this.logged.policyActions;
    this.logged = { ...now };
    if (grads <= 0 && scores <= 0 && actions <= 0) return null;
    const parts = [
      ...(grads > 0 ? [`${grads} NaN/Inf gradient entries zeroed before the optimizer step (${now.gradEntries} in this run)`] : []),
      ...(scores > 0 ? [`${scores} ${PLAN_SCORES} (${now.planScores} in this run)`] : []),
      ...(actions > 0 ? [`${actions} ${POLICY_ACTIONS} (${now.policyActions} in this run)`] : []),
    ];
    return `numeric faults since the last log: ${parts.join('; ')}. Training continues on the finite values; ` +
      'if the count keeps growing the run is diverging (lower lr, or check the task\'s rewards and observations)';
  }
}

/**
 * The warning for an evaluation whose planner met NaN/Inf scores or whose policy acted NaN/Inf, or
 * null when neither happened: an evaluation during training (its eval metrics) or `tdmpc eval` of a
 * saved model (its result).
 */
export function evaluationFaultNote(step: number, metrics: { plan_nonfinite_scores?: number; policy_nonfinite_actions?: number }): string | null {
  const scores = metrics.plan_nonfinite_scores ?? 0;
  const actions = metrics.policy_nonfinite_actions ?? 0;
  if (scores <= 0 && actions <= 0) return null;
  const parts = [
    ...(scores > 0 ? [`${scores} ${PLAN_SCORES}`] : []),
    ...(actions > 0 ? [`${actions} ${POLICY_ACTIONS} (mean 0)`] : []),
  ];
  return `numeric faults in the evaluation at step ${step}: ${parts.join('; ')} ` +
    '(the evaluation\'s return stands, on the finite values); a model that produces them is diverging';
}

/** Environment steps that diverged (see the header): a warning per log line in which they grew. */
export class DivergenceNotes {
  /** logged: divergences already reported (a resumed run starts from its checkpoint's count). */
  constructor(private logged = 0) {}

  /**
   * The warning for the divergences since the last call, or null. total counts over the run (both
   * runtimes keep it in checkpoints); latest describes the newest one where the caller knows it.
   */
  since(total: number, latest?: string): string | null {
    const fresh = total - this.logged;
    this.logged = total;
    if (fresh <= 0) return null;
    const detail = latest ? `; the latest: ${latest}` : ': MuJoCo reset the physics, or the observation or reward was not finite';
    return `${fresh} environment step(s) diverged in simulation since the last log (${total} in this run${detail}): ` +
      'each ended its episode at the last valid state and was not stored';
  }
}
